// The page's one poller (templates/tasks/components.html#poller), a few lines
// of glue that htmx attributes cannot say:
// - cards another part of the page inserted (a button's new task) are added
//   to the IDs the poller sends, so they move too;
// - when the poller has gone quiet (nothing was unfinished) and such a card
//   appears, it is woken once; its answer brings back the time trigger.
(function () {
  "use strict";

  function pollerIds(poller) {
    try {
      return JSON.parse(poller.getAttribute("hx-vals") || "{}").ids || "";
    } catch (e) {
      return "";
    }
  }

  function pageEntries() {
    return Array.from(document.querySelectorAll("[data-poll-id]"), function (el) {
      return [el.dataset.pollId, el.dataset.pollStamp || ""];
    });
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var poller = event.detail.elt;
    if (!poller || poller.id !== "poller") return;
    var listed = pollerIds(poller);
    var known = new Set(listed.split(",").map(function (entry) { return entry.split(":")[0]; }));
    var extra = pageEntries()
      .filter(function (entry) { return !known.has(entry[0]); })
      .map(function (entry) { return entry.join(":"); });
    event.detail.parameters.ids = [listed].concat(extra).filter(Boolean).join(",");
  });

  var woken = new Set(); // each inserted card wakes the poller at most once

  document.addEventListener("htmx:afterSettle", function () {
    var poller = document.getElementById("poller");
    if (!poller || poller.getAttribute("hx-trigger") !== "mjdash:poll") return;
    var fresh = pageEntries().filter(function (entry) { return !woken.has(entry[0]); });
    if (!fresh.length) return;
    fresh.forEach(function (entry) { woken.add(entry[0]); });
    htmx.trigger(poller, "mjdash:poll");
  });
})();
