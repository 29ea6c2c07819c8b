// The page's one poller (templates/tasks/components.html#poller), a few lines
// of glue that htmx attributes cannot say:
// - it sends every live card on the page ([data-poll-id] with the stamp the
//   card shows), so the answer brings only the cards that changed, and cards
//   another part of the page inserted (a button's new task, the next page of
//   a set) move too;
// - when the poller has gone quiet (nothing was live) and such a card
//   appears, it is woken once; its answer brings back the time trigger;
// - a hidden tab does not poll; shown again, it asks at once;
// - a page whose every card comes back unknown to the relay says so in words,
//   as a page does whose answer came before it was sent.
(function () {
  "use strict";

  function pageEntries() {
    return Array.from(document.querySelectorAll("[data-poll-id]"), function (el) {
      return [el.dataset.pollId, el.dataset.pollStamp || ""];
    });
  }

  function isPoller(elt) {
    return elt && elt.id === "poller";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (!isPoller(event.detail.elt)) return;
    var seen = new Set();
    event.detail.parameters.ids = pageEntries()
      .filter(function (entry) {
        if (seen.has(entry[0])) return false;
        seen.add(entry[0]);
        return true;
      })
      .map(function (entry) { return entry.join(":"); })
      .join(",");
  });

  var missed = false; // a tick skipped while the tab was hidden

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!isPoller(event.detail.elt) || document.visibilityState !== "hidden") return;
    missed = true;
    event.preventDefault();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" || !missed) return;
    var poller = document.getElementById("poller");
    missed = false;
    if (poller) htmx.trigger(poller, "mjdash:poll");
  });

  var woken = new Set(); // each inserted card wakes the poller at most once

  document.addEventListener("htmx:afterSettle", function () {
    var poller = document.getElementById("poller");
    if (!poller || /every/.test(poller.getAttribute("hx-trigger") || "")) return;
    var fresh = pageEntries().filter(function (entry) { return !woken.has(entry[0]); });
    if (!fresh.length) return;
    fresh.forEach(function (entry) { woken.add(entry[0]); });
    htmx.trigger(poller, "mjdash:poll");
  });

  document.addEventListener("htmx:afterSettle", function () {
    var note = document.querySelector(".empty-state[data-all-unknown][hidden]");
    var grid = document.getElementById("task-grid");
    if (!note || !grid) return;
    var cards = grid.querySelectorAll("article.card").length;
    var unknown = grid.querySelectorAll("article.card-lookup:not([data-poll-id])").length;
    if (cards && cards === unknown) note.hidden = false;
  });
})();
