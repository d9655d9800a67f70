/* Intake map: district and street outlines (no tiles); a tap sets the point into the hidden
   lat/lng fields. "Use my location" asks the browser. No inline script (CSP 'self'). */
(function () {
  "use strict";
  var holder = document.getElementById("pin-map");
  var source = document.getElementById("pin-map-data");
  var lat = document.getElementById("id_lat");
  var lng = document.getElementById("id_lng");
  var status = document.getElementById("pin-status");
  if (!holder || !source || !lat || !lng || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var map = L.map(holder, { attributionControl: false, zoomSnap: 0.25, maxZoom: 19 });
  var outlines = L.geoJSON(data, {
    interactive: false,
    style: function (f) {
      var district = f.properties.level === "district";
      return { color: district ? "#2f7d6d" : "#8aa39c", weight: district ? 2 : 1, fill: district, fillOpacity: 0.04 };
    }
  }).addTo(map);
  var marker = null;
  function setPoint(latlng, zoom) {
    lat.value = latlng.lat.toFixed(6);
    lng.value = latlng.lng.toFixed(6);
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.circleMarker(latlng, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.6 }).addTo(map);
    }
    if (zoom) {
      map.setView(latlng, Math.max(map.getZoom(), 15));
    }
    status.textContent = status.dataset.set + " " + lat.value + ", " + lng.value;
  }
  status.dataset.set = document.documentElement.lang.indexOf("zh") === 0 ? "已选位置：" : "Point set:";
  if (lat.value && lng.value) {
    setPoint(L.latLng(parseFloat(lat.value), parseFloat(lng.value)), false);
  }
  var bounds = outlines.getBounds();
  if (marker) {
    map.setView(marker.getLatLng(), 15);
  } else if (bounds.isValid()) {
    map.fitBounds(bounds);
  } else {
    map.setView([30.66, 104.06], 11);
  }
  map.on("click", function (e) { setPoint(e.latlng, false); });
  var locate = document.getElementById("pin-locate");
  if (locate) {
    if (!navigator.geolocation) {
      locate.hidden = true;
    }
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        setPoint(L.latLng(pos.coords.latitude, pos.coords.longitude), true);
      });
    });
  }
})();
