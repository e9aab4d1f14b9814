/* The photo redaction editor on the item page.
 *
 * A "Redact" button opens the dialog with the photo's display rendition and the face boxes the
 * server suggests (GET /api/v1/photos/<id>/faces). Boxes are drawn by dragging (mouse or touch),
 * moved by dragging, resized by the corner handle; a selected box moves with the arrow keys,
 * resizes with Shift+arrows and goes with Delete. "Apply" posts the boxes (display pixels,
 * [x, y, w, h]) to /api/v1/photos/<id>/redactions with the session and the CSRF header; the server
 * burns them into every stored rendition and the page reloads with the new files.
 */
(function () {
  "use strict";
  var dialog = document.getElementById("redact-dialog");
  if (!dialog) return;
  var stage = dialog.querySelector(".redact-stage");
  var img = stage.querySelector("img");
  var layer = stage.querySelector(".redact-layer");
  var statusLine = dialog.querySelector(".redact-status");
  var photo = null;  // {width, height, faces, apply}
  var boxes = [];    // {x, y, w, h, el} in display pixels
  var selected = null;
  var MIN = 4;

  function msg(key, n) { return (dialog.dataset["msg" + key] || "").replace("%n", String(n)); }
  function say(text) { statusLine.textContent = text; }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function step() { return Math.max(2, Math.round(photo.width / 100)); }

  function place(box) {
    box.w = clamp(Math.round(box.w), MIN, photo.width);
    box.h = clamp(Math.round(box.h), MIN, photo.height);
    box.x = clamp(Math.round(box.x), 0, photo.width - box.w);
    box.y = clamp(Math.round(box.y), 0, photo.height - box.h);
    var s = box.el.style;
    s.left = (100 * box.x / photo.width) + "%";
    s.top = (100 * box.y / photo.height) + "%";
    s.width = (100 * box.w / photo.width) + "%";
    s.height = (100 * box.h / photo.height) + "%";
  }

  function label() {
    boxes.forEach(function (box, i) { box.el.setAttribute("aria-label", msg("Box", i + 1)); });
  }

  function select(box) {
    selected = box;
    boxes.forEach(function (b) { b.el.setAttribute("aria-pressed", b === box ? "true" : "false"); });
    if (box) box.el.focus({ preventScroll: true });
  }

  function remove(box) {
    if (!box) return;
    box.el.remove();
    boxes = boxes.filter(function (b) { return b !== box; });
    label();
    select(boxes[boxes.length - 1] || null);
  }

  function add(x, y, w, h) {
    var el = document.createElement("button");
    el.type = "button";
    el.className = "redact-box";
    var handle = document.createElement("span");
    handle.className = "redact-handle";
    handle.setAttribute("aria-hidden", "true");
    el.appendChild(handle);
    var box = { x: x, y: y, w: w, h: h, el: el };
    boxes.push(box);
    layer.appendChild(el);
    place(box);
    label();
    el.addEventListener("keydown", function (event) { keys(event, box); });
    el.addEventListener("pointerdown", function (event) {
      event.stopPropagation();
      select(box);
      drag(event, box, event.target === handle ? "resize" : "move");
    });
    el.addEventListener("click", function () { select(box); });
    return box;
  }

  var MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  function keys(event, box) {
    var move = MOVES[event.key];
    if (move) {
      event.preventDefault();
      if (event.shiftKey) { box.w += move[0] * step(); box.h += move[1] * step(); }
      else { box.x += move[0] * step(); box.y += move[1] * step(); }
      place(box);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      remove(box);
    }
  }

  function point(event) {  // pointer position in display pixels
    var rect = layer.getBoundingClientRect();
    return {
      x: clamp((event.clientX - rect.left) / rect.width, 0, 1) * photo.width,
      y: clamp((event.clientY - rect.top) / rect.height, 0, 1) * photo.height,
    };
  }

  function drag(event, box, mode) {
    event.preventDefault();
    var start = point(event);
    var from = { x: box.x, y: box.y, w: box.w, h: box.h };
    var target = event.currentTarget;
    target.setPointerCapture(event.pointerId);
    function moved(e) {
      var p = point(e), dx = p.x - start.x, dy = p.y - start.y;
      if (mode === "move") { box.x = from.x + dx; box.y = from.y + dy; }
      else if (mode === "resize") { box.w = from.w + dx; box.h = from.h + dy; }
      else {  // drawing: from the start point to the pointer, in any direction
        box.x = Math.min(start.x, p.x); box.y = Math.min(start.y, p.y);
        box.w = Math.abs(dx); box.h = Math.abs(dy);
      }
      place(box);
    }
    function done() {
      target.removeEventListener("pointermove", moved);
      target.removeEventListener("pointerup", done);
      target.removeEventListener("pointercancel", done);
    }
    target.addEventListener("pointermove", moved);
    target.addEventListener("pointerup", done);
    target.addEventListener("pointercancel", done);
  }

  layer.addEventListener("pointerdown", function (event) {
    if (event.target !== layer || !photo) return;
    var p = point(event);
    var box = add(p.x, p.y, MIN, MIN);
    select(box);
    drag(event, box, "draw");
  });

  function clear() {
    boxes.forEach(function (b) { b.el.remove(); });
    boxes = [];
    selected = null;
  }

  function open(button) {
    photo = {
      width: Number(button.dataset.width), height: Number(button.dataset.height),
      faces: button.dataset.faces, apply: button.dataset.apply,
    };
    clear();
    say("");
    stage.classList.remove("preview");
    dialog.querySelector("[data-act=preview]").setAttribute("aria-pressed", "false");
    img.src = button.dataset.src;
    dialog.showModal();
    var opened = photo;  // an answer for a photo closed meanwhile is dropped
    fetch(photo.faces, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r); })
      .then(function (data) {
        if (photo !== opened) return;
        data.boxes.forEach(function (b) { add(b[0], b[1], b[2], b[3]); });
        say(!data.checked ? msg("Checking") : data.boxes.length ? msg("Found", data.boxes.length) : msg("None"));
      })
      .catch(function () { say(msg("None")); });
  }

  function errors(data) {
    var list = (data && data.errors) || [];
    return list.map(function (e) { return e.message; }).join(" ") || msg("Failed");
  }

  function apply(button) {
    if (!boxes.length) { say(msg("Nobox")); return; }
    button.disabled = true;
    say(msg("Applying"));
    fetch(photo.apply, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": dialog.dataset.csrf },
      body: JSON.stringify({ boxes: boxes.map(function (b) { return [b.x, b.y, b.w, b.h]; }) }),
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) {
        if (r.ok) { window.location.reload(); return; }
        button.disabled = false;
        say(errors(data));
      });
    }).catch(function () { button.disabled = false; say(msg("Failed")); });
  }

  var ACTIONS = {
    add: function () {
      var w = Math.round(photo.width / 5), h = Math.round(photo.height / 5);
      select(add((photo.width - w) / 2, (photo.height - h) / 2, w, h));
    },
    remove: function () { remove(selected); },
    preview: function (button) {
      var on = stage.classList.toggle("preview");
      button.setAttribute("aria-pressed", on ? "true" : "false");
    },
    apply: apply,
    close: function () { dialog.close(); },
  };
  dialog.addEventListener("click", function (event) {
    var button = event.target.closest("[data-act]");
    if (button && photo) ACTIONS[button.dataset.act](button);
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-redact]");
    if (button) open(button);
  });
})();
