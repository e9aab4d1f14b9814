/* Walk editor: tap the map to set the meeting point or to add numbered stops; the
   route is the line through the stops. The stops travel as JSON in a hidden field.
   Without a mouse: the arrow keys move the map under the cross in its centre, and the
   buttons put the meeting point or a new stop there; the meeting point's coordinates
   can be typed, and each stop moves up or down the list or is removed by its buttons. */
(function () {
  "use strict";
  var map = window[document.currentScript.dataset.map];
  if (!map) return;
  var $ = function (id) { return document.getElementById(id); };
  var msg = function (key, n) {
    var el = document.querySelector('#stop-msg [data-key="' + key + '"]');
    return (el ? el.textContent : key).replace("{n}", n);
  };
  var stops = JSON.parse($("stops").value || "[]");
  var mode = "meeting";
  var layer = L.layerGroup().addTo(map);
  var meeting = null;

  function save() { $("stops").value = JSON.stringify(stops); }
  function button(label, text, onClick) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "button secondary"; b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }
  function move(i, by) {
    var j = i + by;
    if (j < 0 || j >= stops.length) return;
    var s = stops.splice(i, 1)[0];
    stops.splice(j, 0, s);
    draw();
    var again = $("stops-list").children[j].querySelector('[data-move="' + by + '"]');
    (again && !again.disabled ? again : $("stops-list").children[j].querySelector("input")).focus();
  }
  function stopItem(s, i) {
    var li = document.createElement("li");
    var input = document.createElement("input");
    input.type = "text"; input.value = s.name || ""; input.maxLength = 200;
    input.setAttribute("aria-label", msg("name", i + 1));
    input.addEventListener("input", function () { s.name = input.value; save(); });
    var up = button(msg("up", i + 1), "↑", function () { move(i, -1); });
    var down = button(msg("down", i + 1), "↓", function () { move(i, 1); });
    up.dataset.move = "-1"; down.dataset.move = "1";
    up.disabled = i === 0; down.disabled = i === stops.length - 1;
    var remove = button(msg("remove", i + 1), "×", function () {
      stops.splice(i, 1); draw();
      var inputs = $("stops-list").querySelectorAll("input");  // focus stays in the list, or goes back to adding
      (inputs[Math.min(i, inputs.length - 1)] || $("stop-here")).focus();
    });
    var tools = document.createElement("span");
    tools.className = "stop-tools";
    tools.append(up, down, remove);
    li.append(input, tools);
    return li;
  }
  function draw() {
    layer.clearLayers();
    if (stops.length > 1) {
      L.polyline(stops.map(function (s) { return [s.lat, s.lon]; }), { color: "#0b5394", weight: 5 }).addTo(layer);
    }
    var list = $("stops-list");
    list.replaceChildren();
    stops.forEach(function (s, i) {
      L.marker([s.lat, s.lon], { icon: L.divIcon({ className: "stop-icon", html: String(i + 1), iconSize: [28, 28] }),
        keyboard: false }).addTo(layer);
      list.append(stopItem(s, i));
    });
    save();
  }
  function showMeeting(latlng) {
    if (meeting) meeting.setLatLng(latlng);
    else meeting = L.marker(latlng, { title: msg("meeting"), keyboard: false }).addTo(map);
  }
  function setMeeting(latlng) {
    $("meeting_lat").value = latlng.lat.toFixed(6);
    $("meeting_lon").value = latlng.lng.toFixed(6);
    showMeeting(latlng);
  }
  function typedMeeting() {
    var lat = parseFloat($("meeting_lat").value), lon = parseFloat($("meeting_lon").value);
    if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) showMeeting(L.latLng(lat, lon));
  }
  function addStop(latlng) {
    stops.push({ name: "", lat: +latlng.lat.toFixed(6), lon: +latlng.lng.toFixed(6) });
    draw();
  }
  typedMeeting();
  $("meeting_lat").addEventListener("change", typedMeeting);
  $("meeting_lon").addEventListener("change", typedMeeting);
  document.querySelectorAll("[data-mode]").forEach(function (b) {
    b.addEventListener("click", function () {
      mode = b.dataset.mode;
      document.querySelectorAll("[data-mode]").forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
    });
  });
  $("meeting-here").addEventListener("click", function () { setMeeting(map.getCenter()); });
  $("stop-here").addEventListener("click", function () {
    addStop(map.getCenter());
    var inputs = $("stops-list").querySelectorAll("input");
    inputs[inputs.length - 1].focus();
  });
  map.on("click", function (e) {
    if (mode === "meeting") setMeeting(e.latlng);
    else addStop(e.latlng);
  });
  draw();
})();
