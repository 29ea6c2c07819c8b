// Copy buttons ([data-copy]: text; [data-copy-link]: a path made absolute) and
// a visible "copied" confirmation in the nearest [data-copied] status slot.
// Without JavaScript the buttons stay hidden and the page shows what they
// would copy (the ID link, the prompt, a read-only share-link field).
(function () {
  "use strict";

  function reveal(root) {
    (root || document).querySelectorAll("button.copy[hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) return;
    var text = button.dataset.copyLink
      ? new URL(button.dataset.copyLink, window.location.href).href
      : button.dataset.copy || "";
    var holder = button.closest("[data-copy-group]") || button.parentElement;
    var status = holder.querySelector(".copied");
    copy(text).then(
      function () {
        if (status) status.textContent = button.dataset.copiedText || "✓";
        button.classList.add("is-copied");
        window.setTimeout(function () {
          button.classList.remove("is-copied");
          if (status) status.textContent = "";
        }, 2000);
      },
      function () {
        if (status) status.textContent = button.dataset.failedText || "✗";
      }
    );
  });

  document.addEventListener("DOMContentLoaded", function () { reveal(); });
  document.addEventListener("htmx:load", function (event) { reveal(event.detail.elt); });
})();
