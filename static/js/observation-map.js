/* Observations of a walk on its map (clustered pins by category) and in the list
   beside it, from the JSON API; refreshed while the walk is ongoing. All text is
   set with textContent: descriptions are user input. */
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

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }
  // The server's short style (walkapp/i18n.py): "2 dec. 2026 15:00" / "2 Dec 2026 15:00".
  function when(iso) {
    var parts = {};
    new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-GB" : "sv-SE",
      { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date(iso)).forEach(function (part) { parts[part.type] = part.value; });
    return parts.day + " " + parts.month + " " + parts.year + " " + parts.hour + ":" + parts.minute;
  }
  function popup(p) {
    var box = el("div", "popup");
    if (p.photos.length) {
      var img = el("img");
      img.src = p.photos[0].thumb; img.alt = ""; img.width = 160;
      box.append(img);
    }
    box.append(el("strong", null, p.category_name));
    if (p.description) box.append(el("p", null, p.description));
    box.append(el("p", "muted", p.status_name + (p.overdue ? " · " + listMsg("overdue") : "")));
    var link = el("a", null, listMsg("open"));
    link.href = p.url;
    box.append(link);
    return box;
  }
  function item(p) {
    var li = el("li", "card obs-item");
    li.dataset.mine = p.mine ? "true" : "false";
    if (p.photos.length) {
      var img = el("img", "card-thumb");
      img.src = p.photos[0].thumb; img.alt = ""; img.loading = "lazy";
      li.append(img);
    } else {
      var dot = el("span", "card-thumb dot-big");
      dot.style.background = p.colour;
      li.append(dot);
    }
    var text = el("div");
    var title = el("a", "card-title", p.category_name);
    title.href = p.url;
    text.append(title);
    if (p.description) text.append(el("p", null, p.description.length > 140 ? p.description.slice(0, 137) + "…" : p.description));
    text.append(el("p", "muted", p.status_name + (p.overdue ? " · " + listMsg("overdue") : "") + " · " + when(p.created_at)));
    li.append(text);
    return li;
  }
  function render() {
    var shown = features.filter(function (f) { return !onlyMine.checked || f.properties.mine; });
    var reopen = openId, again = null;
    cluster.clearLayers();  // closes an open popup
    shown.forEach(function (f) {
      var p = f.properties;
      var icon = L.divIcon({ className: "pin" + (p.kind === "positive" ? " positive" : ""), html: "", iconSize: [30, 30], iconAnchor: [15, 15] });
      var marker = L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon: icon, title: p.category_name, alt: p.category_name });
      marker.on("add", function () { if (marker._icon) marker._icon.style.background = p.colour; });
      marker.bindPopup(function () { return popup(p); });
      marker.on("popupopen", function () { openId = p.id; });
      marker.on("popupclose", function () { if (openId === p.id) openId = null; });
      if (p.id === reopen) again = marker;
      cluster.addLayer(marker);
    });
    if (again && cluster.getVisibleParent(again) === again) again.openPopup();
    list.replaceChildren.apply(list, shown.length ? shown.map(function (f) { return item(f.properties); })
      : [el("li", "card empty", listMsg("empty"))]);
    count.textContent = shown.length;
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
        loaded = text;
        features = data.features;
        render();
      })
      .catch(function () { /* keep what is shown; the next refresh tries again */ });
  }
  onlyMine.addEventListener("change", render);
  load();
  var every = parseInt(d.refresh, 10);
  if (every > 0) {
    setInterval(function () { if (!document.hidden) load(); }, every * 1000);
  }
})();
