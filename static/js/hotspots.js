/* Hotspot grid on the lägesbild map (counts from the server), and "use the map's
   view as area" for the period form. */
(function () {
  "use strict";
  var map = window[document.currentScript.dataset.map];
  if (!map) return;
  var cells = JSON.parse(document.getElementById("hotspots").textContent);
  var top = cells.reduce(function (m, c) { return Math.max(m, c.n); }, 0);
  var bounds = [];
  cells.forEach(function (c) {
    var share = top ? c.n / top : 0;
    var box = L.rectangle([[c.south, c.west], [c.north, c.east]], {
      weight: 1, color: "#7f1d1d", fillColor: "#dc2626", fillOpacity: 0.15 + 0.6 * share
    }).addTo(map);
    box.bindTooltip(String(c.n));
    // Leaflet makes a shape with a tooltip a tab stop; the counts are in the table below the map,
    // so the keyboard goes from the map to its buttons instead of through every cell.
    var el = box.getElement();
    if (el) el.setAttribute("tabindex", "-1");
    bounds.push([c.south, c.west], [c.north, c.east]);
  });
  var field = document.getElementById("s-bbox");
  if (field && field.value) {
    var b = field.value.split(",").map(Number);
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
  } else if (bounds.length) {
    map.fitBounds(bounds, { padding: [16, 16], maxZoom: 16 });
  }
  // A drawn area: tap its corners, then use it (sent as lon,lat;lon,lat;…).
  var area = document.getElementById("s-area");
  var drawButton = document.getElementById("draw-area"), useButton = document.getElementById("use-drawn-area");
  var corners = [], drawing = false;
  var shape = L.polygon([], { color: "#0b5394", weight: 3, fillOpacity: 0.08 }).addTo(map);
  if (area && area.value) {
    corners = area.value.split(";").map(function (p) { var c = p.split(",").map(Number); return [c[1], c[0]]; });
    shape.setLatLngs(corners);
    map.fitBounds(shape.getBounds(), { padding: [16, 16] });
  }
  // Without a mouse: the arrow keys move the map under the cross, and a button adds the corner there.
  var cornerButton = document.getElementById("add-corner"), cross = document.getElementById("area-cross");
  if (drawButton) drawButton.addEventListener("click", function () {
    drawing = !drawing;
    drawButton.setAttribute("aria-pressed", String(drawing));
    cornerButton.hidden = cross.hidden = !drawing;
    if (drawing) { corners = []; shape.setLatLngs([]); useButton.disabled = true; }
  });
  function addCorner(latlng) {
    corners.push([latlng.lat, latlng.lng]);
    shape.setLatLngs(corners);
    useButton.disabled = corners.length < 3;
    document.getElementById("corner-count").textContent =
      document.getElementById("corner-msg").textContent.replace("{n}", corners.length);
  }
  map.on("click", function (e) { if (drawing) addCorner(e.latlng); });
  if (cornerButton) cornerButton.addEventListener("click", function () { addCorner(map.getCenter()); });
  if (useButton) useButton.addEventListener("click", function () {
    area.value = corners.map(function (c) { return c[1].toFixed(6) + "," + c[0].toFixed(6); }).join(";");
    field.value = "";
    document.getElementById("scope-form").submit();
  });
  var button = document.getElementById("use-map-area");
  if (button) button.addEventListener("click", function () {
    var v = map.getBounds();
    field.value = [v.getWest(), v.getSouth(), v.getEast(), v.getNorth()].map(function (n) { return n.toFixed(5); }).join(",");
    if (area) area.value = "";
    document.getElementById("scope-form").submit();
  });
})();
