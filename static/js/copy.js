// Copy buttons ([data-copy]: text; [data-copy-link]: a path made absolute;
// [data-copy-from]: the text of that element of the button's card) and a
// visible "copied" confirmation in the nearest [data-copied] status slot, in
// the words the button or, once a page, <body> carries.
// Without JavaScript the buttons stay hidden and the page shows what they
// would copy (the ID link, the prompt, a read-only share-link field).
(function () {
  "use strict";

  function reveal(root) {
    (root || document).querySelectorAll("button.copy[hidden]").forEach(function (button) {
      button.hidden = false;
    });
    fill(root || document);
  }

  // A card or task's share tools carry only what to copy (data-copy-id,
  // data-prompt or data-prompt-from); the buttons come from the page's one
  // #copy-tools template.
  function fill(root) {
    var template = document.getElementById("copy-tools");
    if (!template) return;
    var holders = Array.from(root.querySelectorAll("[data-copy-id]"));
    if (root.matches && root.matches("[data-copy-id]")) holders.push(root);
    holders.forEach(function (holder) {
      if (holder.querySelector("button.copy")) return;
      var tools = template.content.cloneNode(true);
      var card = holder.closest(".card");
      var link = card && card.querySelector("a.task-id");
      tools.querySelectorAll("button").forEach(function (button) {
        var what = button.dataset.copyWhat;
        if (what === "id") button.dataset.copy = holder.dataset.copyId;
        else if (what === "link") button.dataset.copyLink = link ? link.getAttribute("href") : window.location.pathname;
        else if (holder.dataset.prompt !== undefined) button.dataset.copy = holder.dataset.prompt;
        else if (holder.dataset.promptFrom) button.dataset.copyFrom = holder.dataset.promptFrom;
        else button.remove();
      });
      holder.insertBefore(tools, holder.firstChild);
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
    var source = button.dataset.copyFrom && button.closest(".card, main");
    source = source && source.querySelector(button.dataset.copyFrom);
    var text = button.dataset.copyLink
      ? new URL(button.dataset.copyLink, window.location.href).href
      : source ? source.textContent : button.dataset.copy || "";
    var words = document.body.dataset;
    var holder = button.closest("[data-copy-group]") || button.parentElement;
    var status = holder.querySelector(".copied");
    copy(text).then(
      function () {
        if (status) status.textContent = button.dataset.copiedText || words.copiedText || "✓";
        button.classList.add("is-copied");
        window.setTimeout(function () {
          button.classList.remove("is-copied");
          if (status) status.textContent = "";
        }, 2000);
      },
      function () {
        if (status) status.textContent = button.dataset.failedText || words.failedText || "✗";
      }
    );
  });

  document.addEventListener("DOMContentLoaded", function () { reveal(); });
  document.addEventListener("htmx:load", function (event) { reveal(event.detail.elt); });
})();
