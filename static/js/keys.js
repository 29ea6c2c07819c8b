// Keyboard shortcuts on a grid of cards (#task-grid), listed by "?" in the
// #shortcuts dialog: h/j/k/l (or the arrows, once a card is chosen) move between cards, Enter or o opens
// one, s stars it, u or v then 1-4 presses U1-U4 / V1-V4 after a confirmation
// (a press starts a paid job). Keys typed into a field are left alone.
(function () {
  "use strict";

  var pending = ""; // "u" or "v" waiting for its quadrant
  var chosen = ""; // the chosen card's id: kept by id, as the poller or a star may swap the card

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("#task-grid > .card"));
  }

  function current() {
    var card = chosen && document.getElementById(chosen);
    if (!card || !card.closest("#task-grid")) return null;
    card.classList.add("is-current"); // again, on a card swapped in since
    return card;
  }

  function select(card) {
    if (!card) return;
    document.querySelectorAll("#task-grid > .card.is-current").forEach(function (other) {
      other.classList.remove("is-current");
    });
    chosen = card.id;
    card.classList.add("is-current");
    card.setAttribute("tabindex", "-1");
    card.focus({ preventScroll: true });
    var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    card.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "nearest" });
  }

  // The card in the next row (down: +1) or the previous one (up: -1) nearest
  // to this one's column; the grid's columns change with the screen.
  function vertical(list, card, step) {
    var box = card.getBoundingClientRect();
    var best = null, bestScore = Infinity;
    list.forEach(function (other) {
      var r = other.getBoundingClientRect();
      var dy = (r.top - box.top) * step;
      if (dy < 4) return;
      var score = dy * 10 + Math.abs(r.left - box.left);
      if (score < bestScore) { best = other; bestScore = score; }
    });
    return best;
  }

  function move(key) {
    var list = cards();
    if (!list.length) return false;
    var card = current();
    if (!card || list.indexOf(card) < 0) { select(list[0]); return true; }
    var at = list.indexOf(card);
    var next = null;
    if (key === "ArrowRight" || key === "l") next = list[at + 1];
    else if (key === "ArrowLeft" || key === "h") next = list[at - 1];
    else if (key === "ArrowDown" || key === "j") next = vertical(list, card, 1);
    else if (key === "ArrowUp" || key === "k") next = vertical(list, card, -1);
    if (next) select(next);
    return true;
  }

  function press(card, kind, n) {
    var value = (kind === "u" ? "upsample::" : "variation::") + n;
    var button = card.querySelector('button[name="custom_id"][value="' + value + '"]');
    var help = document.getElementById("shortcuts");
    if (!button || button.disabled || !help) return;
    var id = card.id.replace(/^task-/, "");
    var question = help.dataset.confirm.replace("{button}", kind.toUpperCase() + n).replace("{task}", id);
    if (window.confirm(question)) button.click();
  }

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable], dialog[open]:not(#shortcuts)");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var help = document.getElementById("shortcuts");
    var key = event.key;
    if (key === "?") {
      if (!help) return;
      if (help.open) help.close(); else help.showModal();
      event.preventDefault();
      return;
    }
    if (help && help.open) return;
    if (!document.getElementById("task-grid")) return;
    var card = current();
    if (pending && /^[1-4]$/.test(key)) {
      var kind = pending;
      pending = "";
      if (card) press(card, kind, key);
      event.preventDefault();
      return;
    }
    pending = "";
    // Arrows move between cards once one is chosen (h/j/k/l choose the first);
    // until then they scroll the page as always.
    if (/^[hjkl]$/.test(key) || (/^Arrow(Right|Left|Up|Down)$/.test(key) && card)) {
      if (move(key)) event.preventDefault();
    } else if (card && (key === "o" || (key === "Enter" && (event.target === card || event.target === document.body)))) {
      var link = card.querySelector("a.task-id");
      if (link) window.location.assign(link.href);
      event.preventDefault();
    } else if (key === "s" && card) {
      var star = card.querySelector("[data-star]");
      if (star) star.click();
    } else if ((key === "u" || key === "v") && card) {
      pending = key;
    }
  });
})();
