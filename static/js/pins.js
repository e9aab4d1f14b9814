/* Numbered pins from JSON embedded in the page (tasks, public feedback page).
   Text goes in with textContent; the JSON is escaped by the server (tojson). */
(function () {
  "use strict";
  var d = document.currentScript.dataset;
  var map = window[d.map];
  var source = document.getElementById(d.source);
  if (!map || !source) return;
  var items = JSON.parse(source.textContent);
  var bounds = [];
  items.forEach(function (item) {
    var icon = L.divIcon({ className: "pin numbered" + (item.positive ? " positive" : "") + (item.overdue ? " overdue" : ""),
                           iconSize: [30, 30], iconAnchor: [15, 15] });
    var marker = L.marker([item.lat, item.lon], { icon: icon, title: "#" + item.n + " " + item.category }).addTo(map);
    function paint() {
      if (!marker._icon) return;
      marker._icon.style.background = item.colour;
      marker._icon.textContent = String(item.n);  // the number matches the list
    }
    marker.on("add", paint);
    paint();
    marker.bindPopup(function () {
      return walkappMap.popup({ title: "#" + item.n + " " + item.category, url: item.url, state: item.status });
    });
    bounds.push([item.lat, item.lon]);
  });
  if (bounds.length) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
})();
