/* One pin on a small map (the observation's place). */
(function () {
  "use strict";
  var d = document.currentScript.dataset;
  var map = window[d.map];
  if (!map) return;
  L.circleMarker([parseFloat(d.lat), parseFloat(d.lon)], {
    radius: 12, color: "#fff", weight: 3, fillColor: d.colour, fillOpacity: 1
  }).addTo(map);
})();
