// Buttons: the glue htmx attributes cannot say.
(function () {
  "use strict";

  // A refused press (400 unknown button, 403 no permission, 429 too many)
  // answers with a line for the card: show it instead of dropping it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    var status = event.detail.xhr.status;
    if (elt && elt.closest && elt.closest("form.buttons") && status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A press's new task arrives out of band at the top of the grid, often far
  // above the pressed card on a phone: bring it into view.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "task-grid") return;
    var card = target.querySelector(":scope > .card");
    if (!card) return;
    var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    card.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "center" });
  });

  // Two answers can bring the same child (a double press): keep one card.
  document.addEventListener("htmx:afterSettle", function () {
    var seen = new Set();
    document.querySelectorAll("#task-grid > .card").forEach(function (card) {
      if (seen.has(card.id)) card.remove();
      else seen.add(card.id);
    });
  });
})();
