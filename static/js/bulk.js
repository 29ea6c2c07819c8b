// The selection form (#bulk, templates/tasks/components.html#bulk): says how many
// cards are ticked, selects or clears a whole page at once, and shows only the
// fields the chosen action needs. Without JavaScript every field shows and the
// ticked checkboxes still post with the form (form="bulk").
(function () {
  "use strict";

  function form() {
    return document.getElementById("bulk");
  }

  function picks() {
    return Array.from(document.querySelectorAll("input.pick"));
  }

  function update() {
    var bulk = form();
    if (!bulk) return;
    var count = picks().filter(function (box) { return box.checked; }).length;
    var label = bulk.querySelector("[data-bulk-count]");
    label.textContent = label.dataset.text + " " + count;
    bulk.classList.toggle("has-selection", count > 0);
    var all = bulk.querySelector("[data-select-all]");
    if (!all.dataset.allText) all.dataset.allText = all.textContent;
    var every = count > 0 && count === picks().length;
    all.textContent = every ? all.dataset.noneText : all.dataset.allText;
    var action = bulk.querySelector("select[name=do]").value;
    bulk.querySelectorAll("[data-for]").forEach(function (field) {
      field.hidden = field.dataset.for.split(" ").indexOf(action) < 0;
    });
  }

  function start() {
    var bulk = form();
    if (!bulk) return;
    var all = bulk.querySelector("[data-select-all]");
    all.hidden = false;
    all.addEventListener("click", function () {
      var boxes = picks();
      var every = boxes.every(function (box) { return box.checked; });
      boxes.forEach(function (box) { box.checked = !every; });
      update();
    });
    document.addEventListener("change", function (event) {
      if (event.target.matches("input.pick, #bulk select[name=do]")) update();
    });
    document.body.addEventListener("htmx:afterSettle", update);  // cards of the next page came
    update();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
