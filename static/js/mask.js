// Vary (Region): drag rectangles over the image. They are written into the
// form's "rects" field in image pixels and the server draws the PNG mask, so
// the same form works with no script (type the rectangles) and with it.
(function () {
  "use strict";

  function box(a, b, w, h) {
    var x1 = Math.max(0, Math.min(a[0], b[0])), y1 = Math.max(0, Math.min(a[1], b[1]));
    var x2 = Math.min(w, Math.max(a[0], b[0])), y2 = Math.min(h, Math.max(a[1], b[1]));
    return [x1, y1, x2 - x1, y2 - y1];
  }

  function setup(editor) {
    var form = editor.closest("form");
    var img = editor.querySelector("img");
    var canvas = editor.querySelector("canvas");
    var field = form.querySelector("input.rects");
    var width = form.querySelector("input.mask-width");
    var height = form.querySelector("input.mask-height");
    var clear = form.querySelector(".mask-clear");
    var rects = [], start = null, current = null;

    function parse() {
      rects = (field.value || "").split(/[;\n]+/).map(function (part) {
        var n = part.split(",").map(function (v) { return parseFloat(v); });
        return n.length === 4 && n.every(isFinite) ? n : null;
      }).filter(Boolean);
    }
    function write() {
      field.value = rects.map(function (r) { return r.map(Math.round).join(","); }).join("; ");
    }
    function draw() {
      var ctx = canvas.getContext("2d");
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.fillStyle = "rgba(255, 255, 255, 0.55)";
      ctx.strokeStyle = "#3451d1";
      ctx.lineWidth = Math.max(2, canvas.width / 250);
      rects.concat(current ? [current] : []).forEach(function (r) {
        ctx.fillRect(r[0], r[1], r[2], r[3]);
        ctx.strokeRect(r[0], r[1], r[2], r[3]);
      });
    }
    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return [(event.clientX - rect.left) * canvas.width / rect.width,
              (event.clientY - rect.top) * canvas.height / rect.height];
    }
    function ready() {
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      width.value = img.naturalWidth;
      height.value = img.naturalHeight;
      canvas.hidden = false;
      clear.hidden = false;
      parse();
      draw();
    }

    canvas.addEventListener("pointerdown", function (event) {
      start = point(event);
      canvas.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!start) return;
      current = box(start, point(event), canvas.width, canvas.height);
      draw();
    });
    canvas.addEventListener("pointerup", function (event) {
      if (!start) return;
      var r = box(start, point(event), canvas.width, canvas.height);
      start = current = null;
      if (r[2] >= 4 && r[3] >= 4) {
        rects.push(r);
        write();
      }
      draw();
    });
    field.addEventListener("input", function () { parse(); draw(); });
    clear.addEventListener("click", function () { rects = []; write(); draw(); });
    if (img.complete && img.naturalWidth) ready();
    else img.addEventListener("load", ready);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-mask-editor]").forEach(setup);
  });
})();
