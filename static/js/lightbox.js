// The large view: every [data-lightbox] link of the page (the image, its
// quadrants, its family's thumbnails) opens in one <dialog>, in page order.
// Arrow keys or a horizontal swipe (pointer events: touch, pen and mouse)
// step; Escape, the close button or a click beside the image closes.
// Without JavaScript the links open the images themselves.
(function () {
  "use strict";
  var SWIPE_PX = 40; // a shorter drag is a tap, not a step
  var RETRY_MS = 2000; // a rendition still being built answers 503, "Retry-After: 2"
  var RETRIES = 30;

  function start() {
    var dialog = document.getElementById("lightbox");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var img = dialog.querySelector(".lightbox-img");
    var caption = dialog.querySelector(".lightbox-caption");
    var count = dialog.querySelector(".lightbox-count");
    var detail = dialog.querySelector(".lightbox-detail");
    var items = [];
    var index = 0;
    var downX = null;
    var retries = 0;

    function show(n) {
      index = (n + items.length) % items.length;
      var link = items[index];
      retries = 0;
      img.src = link.getAttribute("href");
      img.alt = link.dataset.caption || "";
      caption.textContent = link.dataset.caption || "";
      count.textContent = items.length > 1 ? index + 1 + " / " + items.length : "";
      detail.hidden = !link.dataset.detail;
      if (link.dataset.detail) detail.href = link.dataset.detail;
      dialog.dataset.index = String(index);
      // Fetch the neighbours now so a step shows at once.
      [index + 1, index - 1].forEach(function (m) {
        var next = items[(m + items.length) % items.length];
        if (next) new Image().src = next.href;
      });
    }

    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-lightbox]");
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      items = Array.prototype.slice.call(document.querySelectorAll("a[data-lightbox]"));
      show(items.indexOf(link));
      dialog.showModal();
    });
    dialog.querySelector(".lightbox-prev").addEventListener("click", function () { show(index - 1); });
    dialog.querySelector(".lightbox-next").addEventListener("click", function () { show(index + 1); });
    dialog.querySelector(".lightbox-close").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight") show(index + 1);
      else if (event.key === "ArrowLeft") show(index - 1);
      else return;
      event.preventDefault();
    });
    dialog.addEventListener("close", function () { img.removeAttribute("src"); });
    // An image not built yet (a quadrant, moments after the grid finished): ask
    // again while it stays open on it, with a query the browser has not cached.
    img.addEventListener("error", function () {
      var shown = img.getAttribute("src");
      if (!dialog.open || !shown || retries >= RETRIES) return;
      retries += 1;
      setTimeout(function () {
        if (dialog.open && img.getAttribute("src") === shown) {
          var href = items[index].getAttribute("href");
          img.src = href + (href.indexOf("?") < 0 ? "?" : "&") + "retry=" + retries;
        }
      }, RETRY_MS);
    });

    dialog.addEventListener("pointerdown", function (event) {
      downX = event.target === img ? event.clientX : null;
    });
    dialog.addEventListener("pointerup", function (event) {
      if (downX === null) {
        if (event.target === dialog) dialog.close(); // the backdrop
        return;
      }
      var dx = event.clientX - downX;
      downX = null;
      if (Math.abs(dx) >= SWIPE_PX) show(dx < 0 ? index + 1 : index - 1);
    });
    dialog.addEventListener("pointercancel", function () { downX = null; });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
