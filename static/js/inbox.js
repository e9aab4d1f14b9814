/* Inbox: list/map toggle on phones, select-all, and the map that loads the
   visible area's items (or server-side clusters) from the JSON API with the
   inbox's filters. Pins are coloured by state; all text goes in via textContent. */
(function () {
  "use strict";
  var d = document.currentScript.dataset;
  var map = window[d.map];
  var $ = function (sel) { return document.querySelector(sel); };
  var msg = function (key) { var el = $('#map-msg [data-key="' + key + '"]'); return el ? el.textContent : key; };

  // List / map toggle (phones): both are shown on wide screens.
  var toggle = $(".view-toggle"), layout = $(".inbox-layout");
  toggle.hidden = false;
  toggle.querySelectorAll("[data-show]").forEach(function (button) {
    button.addEventListener("click", function () {
      layout.dataset.view = button.dataset.show;
      toggle.querySelectorAll("[data-show]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      if (button.dataset.show === "map" && map) {
        map.invalidateSize();  // the map had no size while hidden
        if (extent && !shownOnce) { fit(extent); shownOnce = true; }
      }
    });
  });

  var all = $("#select-all");
  if (all) all.addEventListener("change", function () {
    document.querySelectorAll("input.pick").forEach(function (box) { box.checked = all.checked; });
  });

  // The bulk form shows only the fields of the chosen action (without JS, all of them).
  var bulkAction = $("#bulk-form select[name=action]");
  function showBulkFields() {
    document.querySelectorAll("#bulk-form [data-for-action]").forEach(function (field) {
      field.hidden = field.dataset.forAction !== bulkAction.value;
    });
  }
  if (bulkAction) { bulkAction.addEventListener("change", showBulkFields); showBulkFields(); }

  if (!map) return;
  var layer = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
  map.addLayer(layer);
  var note = $("#map-note");
  var pending = null, fitted = false, extent = null, shownOnce = false;
  var shown = {}, clusters = [];  // point markers by id:status:version, and the server's clusters
  function fit(b) { map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [24, 24], maxZoom: 17 }); }

  function pointMarker(f) {
    var p = f.properties;
    var icon = L.divIcon({ className: "pin state-" + p.status + (p.overdue ? " overdue" : ""), iconSize: [28, 28], iconAnchor: [14, 14] });
    var marker = L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon: icon, title: "#" + p.id + " " + p.category_name });
    marker.bindPopup(function () { return walkappMap.featurePopup(p, msg, "#" + p.id + " " + p.category_name); });
    return marker;
  }
  function clusterMarker(f) {
    var n = f.properties.count;
    var size = n < 100 ? 40 : n < 1000 ? 50 : 60;
    var icon = L.divIcon({ className: "server-cluster", html: "", iconSize: [size, size] });
    var marker = L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon: icon, title: String(n) });
    marker.on("add", function () { if (marker._icon) marker._icon.textContent = String(n); });
    marker.on("click", function () { map.setView(marker.getLatLng(), Math.min(map.getZoom() + 2, 19)); });
    return marker;
  }
  function load() {
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
    var url = d.source + (d.source.indexOf("?") >= 0 ? "&" : "?") + "bbox=" + bbox;
    if (pending) pending.abort();
    pending = new AbortController();
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal: pending.signal })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        // Update pins in place: a pin that stays keeps its open popup (opening a popup pans the map,
        // which reloads it). Server clusters are always redrawn.
        var next = {};
        var added = [];
        data.features.forEach(function (f) {
          if (f.properties.cluster) { added.push(clusterMarker(f)); return; }
          var key = f.id + ":" + f.properties.status + ":" + f.properties.version;
          next[key] = shown[key] || pointMarker(f);
          if (!shown[key]) added.push(next[key]);
        });
        var gone = clusters.concat(Object.keys(shown).filter(function (k) { return !next[k]; })
          .map(function (k) { return shown[k]; }));
        // Re-clustering takes a pin off the map and back, which closes its popup: reopen it.
        var open = Object.keys(next).map(function (k) { return next[k]; })
          .filter(function (m) { return m.isPopupOpen(); })[0];
        if (gone.length) layer.removeLayers(gone);
        if (added.length) layer.addLayers(added);
        if (open && !open.isPopupOpen() && layer.getVisibleParent(open) === open) open.openPopup();
        clusters = added.filter(function (m) { return m.options.icon.options.className === "server-cluster"; });
        shown = next;
        note.textContent = data.clustered ? msg("clustered") : "";
      })
      .catch(function () { /* aborted or offline: keep what is shown */ });
  }
  // First view: fit the filtered items' extent, then follow pans and zooms.
  fetch(d.extent, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : { bbox: null }; })
    .then(function (data) {
      extent = data.bbox;
      // A hidden map (phones, list view) has no size to fit; it fits when first shown.
      if (extent && map.getContainer().offsetWidth) { fit(extent); shownOnce = true; }
      fitted = true;
      load();
    })
    .catch(function () { fitted = true; load(); });
  map.on("moveend", function () { if (fitted) load(); });
})();
