/* Observations of a walk on its map (clustered pins by category, from the JSON API) and in the
   server's list beside it; both refreshed while the walk is ongoing. All text is set with
   textContent (map-common.js): descriptions are user input. */
(function () {
  "use strict";
  var d = document.currentScript.dataset;
  var map = window[d.map];
  if (!map) return;
  var list = document.getElementById("obs-list");
  var count = document.getElementById("obs-count");
  var onlyMine = document.getElementById("only-mine");
  var listMsg = function (key) {
    var el = document.querySelector('#list-msg [data-key="' + key + '"]');
    return el ? el.textContent : key;
  };
  var cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
  map.addLayer(cluster);
  var features = [];
  var loaded = null;        // the last answer, to skip redrawing when nothing changed
  var openId = null;        // the item whose popup is open, reopened after a redraw
  var fitted = false;

  var route = JSON.parse(d.route || "null");
  var stops = JSON.parse(d.stops || "[]");
  var routeBounds = null;
  if (route && route.coordinates) {
    var line = L.polyline(route.coordinates.map(function (c) { return [c[1], c[0]]; }),
      { color: "#0b5394", weight: 5, opacity: 0.8, dashArray: "8 8" }).addTo(map);
    routeBounds = line.getBounds();
  }
  stops.forEach(function (s) {
    var icon = L.divIcon({ className: "stop-icon", html: String(Number(s.n)), iconSize: [28, 28] });
    var marker = L.marker([s.lat, s.lon], { icon: icon, keyboard: false }).addTo(map);
    var label = document.createElement("span");
    label.textContent = s.n + ". " + s.name;
    marker.bindTooltip(label);
  });

  // The list is the server's (walks/_observation_item.html, the map's accessible alternative, kept
  // offline with the page); "only mine" hides items, and new items come with the page fetched again.
  function filterList() {
    var shown = 0;
    list.querySelectorAll(".obs-item").forEach(function (li) {
      li.hidden = onlyMine.checked && li.dataset.mine !== "true";
      if (!li.hidden) shown += 1;
    });
    var empty = list.querySelector(".empty");
    if (empty) empty.hidden = shown > 0;
    count.textContent = shown;
  }
  function reloadList() {
    return fetch(d.page, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("obs-list");
        if (fresh) list.replaceChildren.apply(list, Array.prototype.slice.call(fresh.children));
        filterList();
      });
  }
  function drawPins() {
    var shown = features.filter(function (f) { return !onlyMine.checked || f.properties.mine; });
    var reopen = openId, again = null;
    cluster.clearLayers();  // closes an open popup
    shown.forEach(function (f) {
      var p = f.properties;
      var icon = L.divIcon({ className: "pin" + (p.kind === "positive" ? " positive" : ""), html: "", iconSize: [30, 30], iconAnchor: [15, 15] });
      var marker = L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon: icon, title: p.category_name, alt: p.category_name });
      marker.on("add", function () { if (marker._icon) marker._icon.style.background = p.colour; });
      marker.bindPopup(function () { return walkappMap.featurePopup(p, listMsg); });
      marker.on("popupopen", function () { openId = p.id; });
      marker.on("popupclose", function () { if (openId === p.id) openId = null; });
      if (p.id === reopen) again = marker;
      cluster.addLayer(marker);
    });
    if (again && cluster.getVisibleParent(again) === again) again.openPopup();
    if (!fitted) {
      var bounds = cluster.getBounds();
      if (routeBounds) bounds = bounds.isValid() ? bounds.extend(routeBounds) : routeBounds;
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
      fitted = true;
    }
  }
  function load() {
    return fetch(d.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        var text = JSON.stringify(data.features);
        if (text === loaded) return;
        var first = loaded === null;  // the page came with the list of this moment
        loaded = text;
        features = data.features;
        drawPins();
        if (!first) return reloadList();
      })
      .catch(function () { /* keep what is shown; the next refresh tries again */ });
  }
  onlyMine.addEventListener("change", function () { filterList(); drawPins(); });
  filterList();  // a browser may bring the switch back as it was
  load();
  var every = parseInt(d.refresh, 10);
  if (every > 0) {
    setInterval(function () { if (!document.hidden) load(); }, every * 1000);
  }
})();
