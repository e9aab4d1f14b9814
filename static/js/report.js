/* Report form: photos with previews and progress, place by GPS / crosshair / tap /
   photo EXIF, "already reported?" check, and sending through the JSON API so that
   nothing typed or chosen is lost when sending fails. Without JS the form still
   posts normally. */
(function () {
  "use strict";
  var script = document.currentScript;
  var form = document.getElementById("report-form");
  var map = window[script.dataset.map];
  if (!form || !map) return;

  var $ = function (id) { return document.getElementById(id); };
  var msg = function (key, values) {
    var el = document.querySelector('#msg [data-key="' + key + '"]');
    var text = el ? el.textContent : key;
    Object.keys(values || {}).forEach(function (k) { text = text.replace("{" + k + "}", values[k]); });
    return text;
  };
  var lat = $("lat"), lon = $("lon"), accuracy = $("accuracy");
  var input = $("photos"), thumbs = $("thumbs"), whereStatus = $("where-status");
  var editing = form.dataset.editing === "true";
  var maxPhotos = parseInt(form.dataset.maxPhotos, 10);
  var maxBytes = parseInt(form.dataset.maxBytes, 10);
  var csrf = form.querySelector('input[name="csrf_token"]').value;
  var photos = [];          // {file, url, gps}
  var photoGps = null;
  var placedAt = null;      // where we last moved the map ourselves
  var placing = false;      // true inside our setView: it may end a glide still under way, mid-way
  var chosen = false;       // the person has placed it (pan, tap, photo): a late first fix must not move it

  // ---- place -------------------------------------------------------------
  function setPlace(latlng, acc) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    accuracy.value = acc == null ? "" : Math.round(acc);
    clearError("lat");
  }
  function moveTo(latlng, zoom, acc, status) {
    placedAt = L.latLng(latlng);
    setPlace(placedAt, acc);
    whereStatus.textContent = status || msg("chosen");
    var target = placedAt;
    function jump() {
      if (placedAt !== target) return;  // a newer place was chosen meanwhile
      // No glide: a glide, or a zoom still under way, would end off the place and count as a pan.
      placing = true;
      try { map.setView(target, zoom || Math.max(map.getZoom(), 18), { animate: false }); } finally { placing = false; }
    }
    // Leaflet ignores a new view while a zoom animation runs and ends that zoom where it was going.
    if (map._animatingZoom) map.once("zoomend", jump); else jump();
  }
  map.on("moveend", function () {
    // The move we made ourselves keeps its GPS accuracy; a user's pan replaces it.
    if (placing || (placedAt && map.getCenter().distanceTo(placedAt) < 1)) return;
    placedAt = null;
    chosen = true;
    setPlace(map.getCenter(), null);
    whereStatus.textContent = msg("chosen");
  });
  map.on("click", function (e) { map.panTo(e.latlng); });
  // On a touch screen a one-finger swipe scrolls the page (it never moves the pin); two fingers
  // move and zoom the map, and a tap still places the pin. A one-finger swipe on the map says so.
  if (window.matchMedia && matchMedia("(pointer: coarse)").matches) {
    map.dragging.disable();
    var frame = map.getContainer().closest(".map-frame") || map.getContainer();
    var hint = document.createElement("p");
    hint.className = "map-hint";
    hint.setAttribute("aria-hidden", "true");  // the same words are in the hint above the map
    hint.textContent = msg("two-fingers");
    hint.hidden = true;
    frame.append(hint);
    var hintTimer = null;
    map.getContainer().addEventListener("touchmove", function (e) {
      if (e.touches.length !== 1) { hint.hidden = true; return; }
      hint.hidden = false;
      clearTimeout(hintTimer);
      hintTimer = setTimeout(function () { hint.hidden = true; }, 1500);
    }, { passive: true });
  }
  if (lat.value && lon.value) map.setView([parseFloat(lat.value), parseFloat(lon.value)], 18);

  function locate(auto) {
    auto = auto === true;   // on opening the form, not asked for
    if (!navigator.geolocation) { whereStatus.textContent = msg("no-gps"); return; }
    whereStatus.textContent = msg("locating");
    navigator.geolocation.getCurrentPosition(function (pos) {
      if (auto && chosen) return;
      var c = pos.coords;
      moveTo([c.latitude, c.longitude], 18, c.accuracy, msg("accuracy", { m: Math.round(c.accuracy) }));
    }, function () {
      if (auto && chosen) return;
      whereStatus.textContent = msg("no-gps");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  }
  $("locate").addEventListener("click", function () { locate(false); });
  $("use-photo-location").addEventListener("click", function () {
    if (!photoGps) return;
    chosen = true;
    moveTo([photoGps.latitude, photoGps.longitude], 18, null, msg("photo-gps"));
  });
  if (!editing && !lat.value) locate(true);

  // ---- photos --------------------------------------------------------------
  function renderThumbs() {
    thumbs.innerHTML = "";
    photos.forEach(function (p, i) {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.src = p.url;
      // what the photo is, not its file name: the category (once chosen) and which photo of how many
      var category = form.querySelector('input[name="category"]:checked');
      var which = msg("photo-n", { n: i + 1, m: photos.length });
      img.alt = category ? category.closest("label").textContent.trim() + ", " + which : which;
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = 0; bar.hidden = true;
      p.bar = bar;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", msg("remove") + " " + (i + 1));
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(p.url);
        photos.splice(photos.indexOf(p), 1);
        renderThumbs();
      });
      li.append(img, bar, remove);
      thumbs.append(li);
    });
  }
  input.addEventListener("change", function () {
    var errors = [];
    Array.prototype.forEach.call(input.files, function (file) {
      if (photos.length >= maxPhotos) { errors.push(msg("too-many")); return; }
      if (file.size > maxBytes) { errors.push(file.name + ": " + msg("too-big")); return; }
      var entry = { file: file, url: URL.createObjectURL(file) };
      photos.push(entry);
      if (window.exifr) {
        window.exifr.gps(file).then(function (gps) {
          if (gps && isFinite(gps.latitude) && isFinite(gps.longitude)) {
            photoGps = gps;
            $("use-photo-location").hidden = false;
            whereStatus.textContent = msg("photo-gps");
          }
        }).catch(function () { /* no EXIF: nothing to offer */ });
      }
    });
    input.value = "";  // the files live in `photos`; choosing the same file again works
    showError("photos", errors.join(" "));
    renderThumbs();
  });

  // ---- errors ----------------------------------------------------------------
  function showError(field, text) {
    var el = form.querySelector('[data-error-for="' + field + '"]');
    if (!el) { el = $("form-error"); }
    el.textContent = text || "";
    el.hidden = !text;
  }
  function clearError(field) { showError(field, ""); }
  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    $("form-error").hidden = true;
  }
  function showErrors(errors) {
    var first = null;
    errors.forEach(function (e) {
      var field = e.field === "lon" ? "lat" : e.field;
      var el = field && form.querySelector('[data-error-for="' + field + '"]');
      if (el) {
        el.textContent = (el.hidden ? "" : el.textContent + " ") + e.message;
        el.hidden = false;
        first = first || el;
      } else {
        $("form-error").textContent = e.message;
        $("form-error").hidden = false;
        first = first || $("form-error");
      }
    });
    if (!$("form-error").hidden || first) {
      $("form-error").hidden = false;
      (first || $("form-error")).scrollIntoView({ block: "center" });
    }
  }

  // ---- sending -----------------------------------------------------------------
  function formData(withPhotos) {
    var data = new FormData(form);
    data.delete("photos");
    if (withPhotos) photos.forEach(function (p) { data.append("photos", p.file, p.file.name); });
    return data;
  }
  function setBusy(busy) {
    $("submit").disabled = busy;
    // no second send while one is under way ("add to this one" has no key to make it harmless)
    $("nearby").querySelectorAll("button").forEach(function (b) { b.disabled = busy; });
    $("submit").setAttribute("aria-busy", busy ? "true" : "false");
    $("progress").hidden = !busy;
  }
  // ---- the report's key and the phone's outbox ------------------------------------
  var key = $("client_key");
  function newKey() {
    if (!key) return;
    if (window.crypto && crypto.randomUUID) { key.value = crypto.randomUUID(); return; }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    key.value = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  if (key && !key.value) newKey();
  function keepForLater(url, data) {
    // No connection: the report waits in the outbox; the form is emptied for the next one.
    var fields = [];
    // not the CSRF token: the outbox sends with the token of the page it runs on
    data.forEach(function (value, name) {
      if (typeof value === "string" && name !== "csrf_token") fields.push([name, value]);
    });
    var category = form.querySelector('input[name="category"]:checked');
    var label = { category: category ? category.closest("label").textContent.trim() : "",
                  text: $("description").value };
    return window.walkappOutbox.add(url, fields, data.getAll("photos"), label).then(function () {
      photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
      photos = [];
      renderThumbs();
      $("description").value = "";
      form.querySelectorAll('input[name="category"], input[name="rating"]').forEach(function (r) { r.checked = false; });
      newKey();
      $("queued").textContent = msg("queued");
      $("queued").hidden = false;
      $("queued").scrollIntoView({ block: "center" });
    });
  }

  function send(url, data, done, keepable) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    var photoBytes = photos.reduce(function (n, p) { return n + p.file.size; }, 0);
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      $("progress").value = Math.round(100 * e.loaded / e.total);
      // Photos go last in the body, in order: show each one's share.
      var offset = e.total - photoBytes;
      photos.forEach(function (p) {
        p.bar.hidden = false;
        p.bar.value = Math.max(0, Math.min(100, 100 * (e.loaded - offset) / p.file.size));
        offset += p.file.size;
      });
    };
    xhr.onload = function () {
      setBusy(false);
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
      if (xhr.status === 201 || xhr.status === 200) { done(body); return; }  // 200: sent before, same key
      if (xhr.status === 413) { showErrors([{ field: "photos", message: msg("too-large") }]); return; }
      if (xhr.status === 429 && keepable && window.walkappOutbox) { xhr.onerror(); return; }  // "try later"
      if (xhr.status === 401) { window.location.reload(); return; }
      var errors = (body && body.errors) || [{ field: null, message: xhr.statusText }];
      if (walkEnded(errors)) return;
      showErrors(errors);
    };
    xhr.timeout = 600000;  // a send that hangs on a weak connection counts as no connection
    xhr.ontimeout = xhr.onerror = function () {
      setBusy(false);
      var offline = function () { showErrors([{ field: null, message: msg("offline") }]); };
      if (keepable && window.walkappOutbox) keepForLater(url, data).catch(offline);
      else offline();
    };
    setBusy(true);
    xhr.send(data);
  }
  // The outbox is the one source of truth: once nothing waits, "saved on this phone" is gone.
  document.addEventListener("walkapp:outbox", function (e) {
    if (!e.detail.waiting) $("queued").hidden = true;
  });
  function finished(feature) {
    window.location.href = form.dataset.done || (feature && feature.properties.url) || "/";
  }

  function offerNearby(features) {
    var list = $("nearby-list");
    list.innerHTML = "";
    features.forEach(function (f) {
      var p = f.properties;
      var li = document.createElement("li");
      li.className = "card";
      if (p.photos.length) {
        var img = document.createElement("img");
        img.src = p.photos[0].thumb; img.alt = ""; img.className = "card-thumb";
        li.append(img);
      }
      var text = document.createElement("div");
      var title = document.createElement("p");
      title.className = "card-title";
      title.textContent = p.category_name;
      var desc = document.createElement("p");
      desc.textContent = p.description;
      var dist = document.createElement("p");
      dist.className = "muted";
      dist.textContent = msg("metres", { m: p.distance_m }) + " · " + p.status_name;
      text.append(title, desc, dist);
      var add = document.createElement("button");
      add.type = "button";
      add.className = "button";
      add.textContent = msg("add-here");
      add.addEventListener("click", function () {
        var data = new FormData();
        data.append("comment", $("description").value);
        photos.forEach(function (ph) { data.append("photos", ph.file, ph.file.name); });
        send(form.dataset.contribute.replace(/\/0\//, "/" + p.id + "/"), data, finished);
      });
      text.append(add);  // under the text: beside it, the button squeezed the text to a word a line
      li.append(text);
      list.append(li);
    });
    $("nearby").hidden = false;
    $("nearby").focus();
  }
  // the photos' alt text names the category once it is chosen
  form.addEventListener("change", function (e) { if (e.target.name === "category" && photos.length) renderThumbs(); });

  // While "Already reported?" shows, Send sends it as new, as the panel's own button does.
  var sendLabel = $("submit").textContent;
  function sendAsNew() {
    $("nearby").hidden = true;
    $("submit").textContent = sendLabel;
    send(form.dataset.api, formData(true), finished, true);
  }
  $("nearby-new").addEventListener("click", sendAsNew);

  // A walk marked done while one was reporting: keep what was typed (and the photos) as a report
  // without walk where the person may report so (the server has the last word), else say what happened.
  function walkEnded(errors) {
    var box = $("walk-ended");
    var walkField = form.querySelector('input[name="walk"]');
    if (!box || !walkField || !errors.some(function (e) { return e.field === "walk"; })) return false;
    box.hidden = false;
    box.focus();
    return true;
  }
  if ($("keep-off-walk")) $("keep-off-walk").addEventListener("click", function () {
    var walkField = form.querySelector('input[name="walk"]');
    if (walkField) walkField.remove();
    form.dataset.done = "";  // afterwards, the new item's page
    $("walk-ended").hidden = true;
    send(form.dataset.api, formData(true), finished, true);
  });

  // ---- personal data in the description: warn, never block -----------------
  // The same three patterns as walkapp/personal_data.py (see there), which marks the item on the server.
  var PERSONNUMMER = /(?<![\d+-])(?:\d{2})?(\d{6})[-+]?(\d{4})(?![\d-])/g;
  var PHONE = /(?<![\p{L}\p{N}_+])(?:\+46[ -]?|0)\d(?:[ -]?\d){6,8}(?![\d-])/gu;
  var EMAIL = /[\p{L}\p{N}_.+-]+@[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)*\.[A-Za-z]{2,}/u;
  var DATE_LIKE = /^\d{2}[-.]\d{2}[-.]\d{4}$/;
  function luhnOk(digits) {
    var total = 0;
    for (var i = 0; i < digits.length; i++) {
      var v = parseInt(digits[i], 10) * (i % 2 === 0 ? 2 : 1);
      total += v > 9 ? v - 9 : v;
    }
    return total % 10 === 0;
  }
  function findings(text) {
    var found = [];
    if (Array.from(text.matchAll(PERSONNUMMER)).some(function (m) {
      var month = parseInt(m[1].slice(2, 4), 10), day = parseInt(m[1].slice(4, 6), 10);
      return month >= 1 && month <= 12 && ((day >= 1 && day <= 31) || (day >= 61 && day <= 91)) && luhnOk(m[1] + m[2]);
    })) found.push("personnummer");
    if (Array.from(text.matchAll(PHONE)).some(function (m) { return !DATE_LIKE.test(m[0]); })) found.push("phone");
    if (EMAIL.test(text)) found.push("email");
    return found;
  }
  var warning = $("personal-warning"), warned = "";
  function checkPersonal() {
    var kinds = findings($("description").value).map(function (k) { return msg(k); });
    var text = kinds.length ? msg("personal", { what: kinds.length > 1
      ? kinds.slice(0, -1).join(", ") + " " + msg("and") + " " + kinds[kinds.length - 1] : kinds[0] }) : "";
    if (text === warned) return;  // a live region speaks on every change: only change it when the finding does
    warned = text;
    warning.textContent = "";
    if (text) { var p = document.createElement("p"); p.className = "flash warning"; p.textContent = text; warning.append(p); }
  }
  var personalTimer = null;
  $("description").addEventListener("input", function () {
    clearTimeout(personalTimer);
    personalTimer = setTimeout(checkPersonal, 400);
  });
  $("description").addEventListener("change", checkPersonal);
  checkPersonal();

  form.addEventListener("submit", function (e) {
    checkPersonal();
    if (editing) {
      // A normal post to the edit page, with the collected photos put back in the input.
      if (window.DataTransfer) {
        var dt = new DataTransfer();
        photos.forEach(function (p) { dt.items.add(p.file); });
        input.files = dt.files;
      }
      return;
    }
    e.preventDefault();
    if (!$("nearby").hidden) { clearErrors(); sendAsNew(); return; }
    clearErrors();
    $("queued").hidden = true;
    var category = form.querySelector('input[name="category"]:checked');
    var problems = [];
    if (!lat.value || !lon.value) problems.push({ field: "lat", message: msg("no-place") });
    if (!category) problems.push({ field: "category", message: msg("no-category") });
    if (problems.length) { showErrors(problems); return; }
    var url = form.dataset.nearby + "?lat=" + encodeURIComponent(lat.value) + "&lon=" +
      encodeURIComponent(lon.value) + "&category=" + encodeURIComponent(category.value);
    setBusy(true);  // a second tap while we look for nearby items sends nothing twice
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .catch(function () { return { features: [] }; })
      .then(function (found) {
        if (found.features && found.features.length) {
          setBusy(false);
          offerNearby(found.features);
          $("submit").textContent = msg("send-new");
        }
        else send(form.dataset.api, formData(true), finished, true);
      });
  });
})();
