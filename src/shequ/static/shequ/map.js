/* Area map: the children's boundaries (GeoJSON, WGS84) on a plain background, no tile server.
   Data comes from {{ map_data|json_script:"area-map-data" }}; no inline script (CSP 'self'). */
(function () {
  "use strict";

  var holder = document.getElementById("area-map");
  var source = document.getElementById("area-map-data");
  if (!holder || !source || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#2f7d6d", "#c0692a", "#4a6fa5", "#a64d79", "#7a8b2f", "#8c5a3c", "#3d8fb0", "#b3484e"];
  var few = (data.areas.features || []).length <= 30;

  var map = L.map(holder, {
    zoomSnap: 0.25,
    maxZoom: 19,
    scrollWheelZoom: false,
    attributionControl: false
  });
  var layers = [];

  if (data.outline) {
    layers.push(L.geoJSON(data.outline, {
      interactive: false,
      style: { color: "#5b6770", weight: 2, dashArray: "6 4", fill: false }
    }));
  }

  (data.areas.features || []).forEach(function (feature, i) {
    feature.properties = feature.properties || {};
    feature.properties.colour = palette[i % palette.length];
  });
  var areas = L.geoJSON(data.areas, {
    style: function (feature) {
      var colour = feature.properties.colour;
      return {
        color: colour,
        weight: 2,
        fillColor: colour,
        fillOpacity: 0.28,
        className: feature.properties.url ? "map-area map-area--link" : "map-area"
      };
    },
    onEachFeature: function (feature, layer) {
      var props = feature.properties;
      if (props.name) {
        layer.bindTooltip(props.name, {
          permanent: few && Boolean(props.url),
          direction: "center",
          className: "map-label"
        });
      }
      if (props.url) {
        layer.on("click", function () { window.location.href = props.url; });
        layer.on("mouseover", function () { layer.setStyle({ fillOpacity: 0.5, weight: 3 }); });
        layer.on("mouseout", function () { areas.resetStyle(layer); });
      }
    }
  });
  layers.push(areas);

  // Compounds are links (with their name on hover); facilities are drawn as plain dots that
  // never catch a click meant for the area below them (their names are listed on the page).
  (data.points || []).forEach(function (point) {
    var compound = point.kind === "compound";
    var marker = L.circleMarker([point.lat, point.lng], {
      radius: compound ? 7 : 4,
      color: "#ffffff",
      weight: compound ? 2 : 1,
      fillColor: compound ? "#1f4e79" : "#b3484e",
      fillOpacity: 1,
      interactive: compound
    });
    if (compound) {
      marker.bindTooltip(point.name, { direction: "top", offset: [0, -6] });
      if (point.url) {
        marker.on("click", function () { window.location.href = point.url; });
      }
    }
    layers.push(marker);
  });

  // Fit the areas one may drill into; without any, the outline and the points.
  var bounds = L.latLngBounds([]);
  var fitTo = areas.getLayers().length ? [areas] : layers;
  fitTo.forEach(function (layer) {
    if (layer.getBounds) {
      bounds.extend(layer.getBounds());
    } else if (layer.getLatLng) {
      bounds.extend(layer.getLatLng());
    }
  });
  // Set the view first: layers (and their permanent labels) are placed once the map has one.
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [16, 16] });
  } else {
    map.setView([30.66, 104.06], 10);
  }
  layers.forEach(function (layer) { layer.addTo(map); });

  // A permanent label wider than its area would cover its neighbours: hide it until zoomed in.
  function fitLabels() {
    areas.eachLayer(function (layer) {
      var tooltip = layer.getTooltip();
      var element = tooltip && tooltip.getElement();
      if (!element || !tooltip.options.permanent) {
        return;
      }
      var bounds = layer.getBounds();
      var sw = map.latLngToContainerPoint(bounds.getSouthWest());
      var ne = map.latLngToContainerPoint(bounds.getNorthEast());
      var tooSmall = Math.abs(ne.x - sw.x) < element.offsetWidth ||
        Math.abs(sw.y - ne.y) < element.offsetHeight;
      element.classList.toggle("map-label--hidden", tooSmall);
    });
  }
  fitLabels();
  map.on("zoomend", fitLabels);
  holder.classList.add("map--ready");
})();
