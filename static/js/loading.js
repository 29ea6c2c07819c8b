// The paste form's loading cue: the skeleton of the cards to come shows from
// the moment a paste is sent until the set's page replaces this one. htmx's
// own indicator class would go as soon as the POST answers, but that answer is
// a redirect (HX-Redirect) and the set's page, which asks the relay, is still
// to load: so the cue is kept through the redirect.
(function () {
  "use strict";

  function skeleton() {
    return document.getElementById("paste-skeleton");
  }

  function isPaste(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.matches && elt.matches("form.paste");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isPaste(event) && skeleton()) skeleton().classList.add("loading");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!isPaste(event) || !skeleton()) return;
    var xhr = event.detail.xhr;
    var leaving = xhr && xhr.status < 400 && xhr.getResponseHeader("HX-Redirect");
    if (!leaving) skeleton().classList.remove("loading");
  });
  // Back to this page from the browser's cache: nothing is loading any more.
  window.addEventListener("pageshow", function () {
    if (skeleton()) skeleton().classList.remove("loading");
  });
})();
