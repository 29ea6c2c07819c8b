// Times: the server writes each <time data-local datetime="…Z"> in UTC ("… UTC").
// Here it is rewritten to the viewer's own time zone, named ("GMT+8"), in the
// page's language, with a relative time ("3 min ago") beside it and the UTC
// original in its title. Runs on load and on every htmx swap.
(function () {
  "use strict";

  var lang = document.documentElement.lang || undefined;
  var absolute, relative;
  try {
    absolute = new Intl.DateTimeFormat(lang, {
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
      hourCycle: "h23", timeZoneName: "short",
    });
    relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  } catch (e) {
    return; // an old browser keeps the UTC text
  }

  var STEPS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];

  function ago(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    for (var i = 0; i < STEPS.length; i++) {
      if (Math.abs(seconds) >= STEPS[i][1]) return relative.format(Math.round(seconds / STEPS[i][1]), STEPS[i][0]);
    }
    return relative.format(0, "second");
  }

  function localize(root) {
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      if (!el.dataset.utc) el.dataset.utc = el.textContent;
      el.textContent = absolute.format(date);
      el.title = el.dataset.utc;
      var next = el.nextElementSibling;
      if (!next || !next.classList.contains("ago")) {
        next = document.createElement("span");
        next.className = "ago";
        el.after(next);
      }
      next.textContent = " · " + ago(date);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { localize(document); });
  } else {
    localize(document);
  }
  document.addEventListener("htmx:afterSettle", function () { localize(document); });
  setInterval(function () { localize(document); }, 60000);
})();
