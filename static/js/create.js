// The Create form's images: picked, dropped or pasted (Ctrl+V / ⌘V), each
// checked here before anything is sent (a PNG, JPEG or WebP, at most the
// page's data-max-bytes) and shown as a preview with a remove button. The
// server checks and cleans each again (create/uploads.py); without JavaScript
// the file input posts as it is.
(function () {
  "use strict";

  var TYPES = ["image/png", "image/jpeg", "image/webp"];

  function setUp(box) {
    var input = box.querySelector("input[type=file]");
    var list = box.querySelector(".previews");
    var error = box.querySelector("#images-error");
    var max = Number(box.dataset.maxBytes);
    var count = Number(box.dataset.maxCount);
    var kept = new DataTransfer();

    function say(text) {
      error.textContent = text;
      error.hidden = !text;
    }

    function sizeText(bytes) {
      return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.ceil(bytes / 1024) + " KB";
    }

    function render() {
      input.files = kept.files;
      list.textContent = "";
      Array.from(kept.files).forEach(function (file, index) {
        var item = document.createElement("li");
        var img = document.createElement("img");
        img.alt = file.name;
        var reader = new FileReader();
        reader.onload = function () { img.src = reader.result; };  // a data: URL (the CSP allows data: images)
        reader.readAsDataURL(file);
        var caption = document.createElement("span");
        caption.textContent = file.name + " · " + sizeText(file.size);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link";
        remove.textContent = box.dataset.remove;
        remove.addEventListener("click", function () {
          var next = new DataTransfer();
          Array.from(kept.files).forEach(function (other, n) { if (n !== index) next.items.add(other); });
          kept = next;
          render();
        });
        item.append(img, caption, remove);
        list.append(item);
      });
    }

    function add(files) {
      var problems = [];
      Array.from(files).forEach(function (file) {
        if (TYPES.indexOf(file.type) < 0) problems.push("“" + file.name + "” " + box.dataset.notImage);
        else if (file.size > max) problems.push("“" + file.name + "” (" + sizeText(file.size) + ") " + box.dataset.tooLarge);
        else if (kept.files.length >= count) problems.push(box.dataset.tooMany);
        else kept.items.add(file);
      });
      say(problems.join(" "));
      render();
    }

    input.addEventListener("change", function () {
      var chosen = Array.from(input.files);
      if (count === 1) kept = new DataTransfer();
      add(chosen);
    });
    box.addEventListener("dragover", function (event) { event.preventDefault(); });
    box.addEventListener("drop", function (event) {
      event.preventDefault();
      add(event.dataTransfer.files);
    });
    document.addEventListener("paste", function (event) {
      var files = Array.from((event.clipboardData && event.clipboardData.files) || []);
      if (!files.length) return;  // pasted text goes where it was pasted
      event.preventDefault();
      if (count === 1) kept = new DataTransfer();
      add(files.map(function (file, n) {
        return file.name && file.name !== "image.png" ? file : new File([file], "pasted-" + (n + 1) + "." + (file.type.split("/")[1] || "png"), { type: file.type });
      }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-images]").forEach(setUp);
  });
})();
