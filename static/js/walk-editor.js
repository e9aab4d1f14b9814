/* Walk editor: tap the map to set the meeting point or to add numbered stops; the
   route is the line through the stops. The stops travel as JSON in a hidden field. */
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
  function draw() {
    layer.clearLayers();
    if (stops.length > 1) {
      L.polyline(stops.map(function (s) { return [s.lat, s.lon]; }), { color: "#0b5394", weight: 5 }).addTo(layer);
    }
    var list = $("stops-list");
    list.replaceChildren();
    stops.forEach(function (s, i) {
      L.marker([s.lat, s.lon], { icon: L.divIcon({ className: "stop-icon", html: String(i + 1), iconSize: [28, 28] }) }).addTo(layer);
      var li = document.createElement("li");
      var input = document.createElement("input");
      input.type = "text"; input.value = s.name || ""; input.maxLength = 200;
      input.setAttribute("aria-label", msg("name", i + 1));
      input.addEventListener("input", function () { s.name = input.value; save(); });
      var remove = document.createElement("button");
      remove.type = "button"; remove.className = "button secondary"; remove.textContent = "×";
      remove.setAttribute("aria-label", msg("remove", i + 1));
      remove.addEventListener("click", function () { stops.splice(i, 1); save(); draw(); });
      li.append(input, remove);
      list.append(li);
    });
    save();
  }
  function setMeeting(latlng) {
    $("meeting_lat").value = latlng.lat.toFixed(6);
    $("meeting_lon").value = latlng.lng.toFixed(6);
    if (meeting) meeting.setLatLng(latlng);
    else meeting = L.marker(latlng, { title: msg("meeting") }).addTo(map);
  }
  if ($("meeting_lat").value && $("meeting_lon").value) {
    setMeeting(L.latLng(parseFloat($("meeting_lat").value), parseFloat($("meeting_lon").value)));
  }
  document.querySelectorAll("[data-mode]").forEach(function (button) {
    button.addEventListener("click", function () {
      mode = button.dataset.mode;
      document.querySelectorAll("[data-mode]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    });
  });
  map.on("click", function (e) {
    if (mode === "meeting") setMeeting(e.latlng);
    else { stops.push({ name: "", lat: +e.latlng.lat.toFixed(6), lon: +e.latlng.lng.toFixed(6) }); draw(); }
  });
  draw();
})();
