// A thumbnail that fails to load (refused, failed or still downloading) is
// replaced by its card's image block from the server, which says why and
// offers a retry: a broken-image icon never stays. Loaded in <head> so the
// capturing listener is there before any <img> can fail.
(function () {
  "use strict";
  var tries = {};
  var MAX_TRIES = 6;

  document.addEventListener(
    "error",
    function (event) {
      var img = event.target;
      if (!(img instanceof HTMLImageElement) || !img.classList.contains("thumb-img")) return;
      var frame = img.closest(".thumb-frame");
      var link = img.closest("a.thumb");
      if (!frame || !link) return;
      // The card's link is the task's path; its image block lives below it.
      var fallback = link.getAttribute("href") + "image/status";
      img.classList.add("thumb-failed");
      var key = frame.id;
      tries[key] = (tries[key] || 0) + 1;
      if (tries[key] > MAX_TRIES) return;
      // Wait a little: a 503 means another request is still downloading it.
      window.setTimeout(function () {
        fetch(fallback, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
          .then(function (response) {
            return response.ok ? response.text() : Promise.reject(response.status);
          })
          .then(function (html) {
            var current = document.getElementById(key);
            if (!current) return;
            current.outerHTML = html;
            var fresh = document.getElementById(key);
            if (fresh && window.htmx) window.htmx.process(fresh);
          })
          .catch(function () {});
      }, 300 * tries[key]);
    },
    true
  );
})();
