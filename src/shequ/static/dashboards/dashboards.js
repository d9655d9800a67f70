/* Layered dashboards: the map (Leaflet, choropleth of the children), the charts (ECharts) and,
   on the big screen, a refresh from the dashboard API every N seconds.
   Data: {{ data|json_script:"dashboard-data" }}; no inline script (CSP 'self'). */
(function () {
  "use strict";

  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var data = readJSON("dashboard-data");
  var config = readJSON("dashboard-config") || {};
  var strings = readJSON("dashboard-strings") || {};
  if (!data) {
    return;
  }
  var big = Boolean(config.big);
  var hasCharts = typeof echarts !== "undefined";
  var hasMap = typeof L !== "undefined";
  var charts = {};
  var ramp = big
    ? ["#173a4f", "#1c5f7a", "#1f87a0", "#35b0b8", "#7fd8cf"]
    : ["#e4f1ee", "#b5dbd2", "#7fbfb0", "#3f9584", "#1f6456"];
  var ink = big ? "#e6eef2" : "#1d2a30";
  var soft = big ? "#9fb3bf" : "#55636b";
  var grid = big ? "#2c3e4a" : "#e3e8ea";
  var fontSize = big ? 18 : 12;
  var series = big
    ? ["#4fc3f7", "#ffb74d", "#ef5350", "#81c784", "#ba68c8", "#4db6ac"]
    : ["#2f7d6d", "#c0692a", "#b3484e", "#4a6fa5", "#7a8b2f", "#8c5a3c"];

  function childUrl(url) {
    return big ? url + "?screen=big" : url;
  }

  function indicatorByKey(d, key) {
    for (var i = 0; i < d.sections.length; i++) {
      var list = d.sections[i].indicators;
      for (var j = 0; j < list.length; j++) {
        if (list[j].key === key) {
          return list[j];
        }
      }
    }
    return null;
  }

  function fmt(value) {
    if (value === null || value === undefined) {
      return "—";
    }
    if (typeof value === "number") {
      return value.toLocaleString();
    }
    return String(value);
  }

  /* --- numbers ------------------------------------------------------------------------ */
  function renderNumbers(d) {
    document.querySelectorAll("[data-value]").forEach(function (node) {
      var ind = indicatorByKey(d, node.getAttribute("data-value"));
      if (!ind) {
        return;
      }
      node.textContent = fmt(ind.value);
      if (ind.chart === "rate" && ind.value !== null && ind.value !== undefined) {
        var unit = document.createElement("span");
        unit.className = "dash-unit";
        unit.textContent = "%";
        node.appendChild(unit);
      }
      node.title = ind.value === null && ind.personal && d.suppressed ? strings.suppressed : "";
    });
  }

  /* --- charts ------------------------------------------------------------------------- */
  function baseOption() {
    return {
      backgroundColor: "transparent",
      color: series,
      textStyle: { fontSize: fontSize, color: ink },
      tooltip: { trigger: "item", textStyle: { fontSize: fontSize } },
      animation: !big
    };
  }

  function axisStyle() {
    return {
      axisLabel: { color: soft, fontSize: fontSize },
      axisLine: { lineStyle: { color: grid } },
      splitLine: { lineStyle: { color: grid } }
    };
  }

  function optionFor(ind) {
    var option = baseOption();
    if (ind.chart === "pie") {
      option.legend = { top: 0, textStyle: { color: ink, fontSize: fontSize } };
      option.series = [{
        type: "pie",
        radius: ["34%", "58%"],
        center: ["50%", "58%"],
        label: { color: ink, fontSize: fontSize, formatter: "{d}%" },
        // Empty slices would only stack "0%" labels on top of each other.
        data: ind.items.filter(function (item) { return item.value; })
          .map(function (item) { return { name: item.name, value: item.value }; })
      }];
    } else if (ind.chart === "bar") {
      var items = ind.items.slice();
      option.grid = { left: 8, right: 40, top: 8, bottom: 8, containLabel: true };
      option.xAxis = Object.assign({ type: "value", minInterval: 1 }, axisStyle());
      option.yAxis = Object.assign({ type: "category", inverse: true,
        data: items.map(function (i) { return i.name; }) }, axisStyle());
      option.tooltip.trigger = "axis";
      option.series = [{ type: "bar", barMaxWidth: 22,
        label: { show: true, position: "right", color: ink, fontSize: fontSize },
        data: items.map(function (i) { return i.value; }) }];
    } else if (ind.chart === "pyramid") {
      var male = ind.male.map(function (v) { return v === null ? null : -v; });
      option.grid = { left: 8, right: 16, top: 28, bottom: 8, containLabel: true };
      option.legend = { top: 0, textStyle: { color: ink, fontSize: fontSize } };
      option.tooltip = { trigger: "axis", axisPointer: { type: "shadow" },
        formatter: function (params) {
          return params[0].axisValue + "<br>" + params.map(function (p) {
            return p.marker + p.seriesName + ": " + fmt(p.value === null ? null : Math.abs(p.value));
          }).join("<br>");
        } };
      option.xAxis = Object.assign({ type: "value",
        axisLabel: { color: soft, fontSize: fontSize, formatter: function (v) { return Math.abs(v); } } },
        { axisLine: axisStyle().axisLine, splitLine: axisStyle().splitLine });
      option.yAxis = Object.assign({ type: "category", data: ind.bands }, axisStyle(),
        { axisLabel: { color: soft, fontSize: big ? 14 : 10, interval: big ? 1 : 0 } });
      option.series = [
        { name: ind.male_label, type: "bar", stack: "age", data: male, barCategoryGap: "12%",
          itemStyle: { color: big ? "#4fc3f7" : "#4a6fa5" } },
        { name: ind.female_label, type: "bar", stack: "age", data: ind.female,
          itemStyle: { color: big ? "#f48fb1" : "#b3484e" } }
      ];
    } else if (ind.chart === "line") {
      option.grid = { left: 8, right: 16, top: 16, bottom: 8, containLabel: true };
      option.tooltip.trigger = "axis";
      option.xAxis = Object.assign({ type: "category",
        data: ind.points.map(function (p) { return p[0].slice(0, 7); }) }, axisStyle());
      option.yAxis = Object.assign({ type: "value", scale: true }, axisStyle());
      var lines = ind.lines || [{ name: ind.label, points: ind.points }];
      option.legend = lines.length > 1 ? { top: 0, textStyle: { color: ink, fontSize: fontSize } } : undefined;
      option.series = lines.map(function (line) {
        // Few numbers (a rate in its first months): dots, or a lone value would not show.
        var known = line.points.filter(function (p) { return p[1] !== null; }).length;
        return { name: line.name, type: "line", smooth: true, showSymbol: known < 4, symbolSize: known < 4 ? 9 : 4,
          areaStyle: lines.length === 1 ? { opacity: 0.15 } : undefined,
          data: line.points.map(function (p) { return p[1]; }) };
      });
      if (ind.points.length && ind.points[0][0].length === 10 && ind.daily) {
        option.xAxis.data = ind.points.map(function (p) { return p[0].slice(5); });
      }
    } else if (ind.chart === "table") {
      option.grid = { left: 8, right: 40, top: 24, bottom: 8, containLabel: true };
      option.legend = { top: 0, textStyle: { color: ink, fontSize: fontSize } };
      option.tooltip.trigger = "axis";
      option.xAxis = Object.assign({ type: "value", minInterval: 1 }, axisStyle());
      option.yAxis = Object.assign({ type: "category", inverse: true,
        data: ind.rows.map(function (r) { return r[0]; }) }, axisStyle());
      option.series = ind.columns.slice(1).map(function (name, i) {
        return { name: name, type: "bar", barMaxWidth: 18,
          data: ind.rows.map(function (r) { return r[i + 1]; }) };
      });
    } else {
      return null;
    }
    return option;
  }

  function chartFor(node) {
    var key = node.getAttribute("data-chart");
    if (!charts[key]) {
      charts[key] = echarts.init(node, big ? "dark" : null, { renderer: "canvas" });
    }
    return charts[key];
  }

  function renderCharts(d) {
    if (!hasCharts) {
      return;
    }
    document.querySelectorAll("[data-chart]").forEach(function (node) {
      var key = node.getAttribute("data-chart");
      if (key === "rank") {
        return;
      }
      var ind = indicatorByKey(d, key);
      var option = ind && optionFor(ind);
      if (option) {
        chartFor(node).setOption(option, true);
      }
    });
    renderRank(d);
  }

  /* --- children: ranking chart and map --------------------------------------------- */
  var metricSelect = document.getElementById("dash-metric");

  function currentMetric(d) {
    var metrics = d.map.metrics || [];
    var key = metricSelect ? metricSelect.value : null;
    for (var i = 0; i < metrics.length; i++) {
      if (metrics[i].key === key) {
        return metrics[i];
      }
    }
    return metrics[0] || null;
  }

  function renderRank(d) {
    var node = document.getElementById("dash-rank");
    var metric = currentMetric(d);
    if (!node || !hasCharts || !metric) {
      return;
    }
    var rows = d.children.map(function (c) {
      return { name: c.name, url: c.url, value: metric.values[c.code] };
    }).sort(function (a, b) { return (b.value || 0) - (a.value || 0); }).slice(0, 15);
    node.style.height = Math.max(180, rows.length * (big ? 34 : 26) + 40) + "px";
    var chart = chartFor(node);
    chart.resize();
    var option = baseOption();
    option.grid = { left: 8, right: 48, top: 8, bottom: 8, containLabel: true };
    option.tooltip = { trigger: "item", formatter: function (p) {
      return p.name + ": " + fmt(p.value) + "<br>" + strings.open.replace("%(name)s", p.name);
    } };
    option.xAxis = Object.assign({ type: "value", minInterval: 1 }, axisStyle());
    option.yAxis = Object.assign({ type: "category", inverse: true,
      data: rows.map(function (r) { return r.name; }) }, axisStyle());
    option.series = [{ type: "bar", name: metric.label, barMaxWidth: 20, cursor: "pointer",
      itemStyle: { color: series[0] },
      label: { show: true, position: "right", color: ink, fontSize: fontSize,
        formatter: function (p) { return fmt(p.value); } },
      data: rows.map(function (r) { return { value: r.value, url: r.url }; }) }];
    chart.setOption(option, true);
    chart.off("click");
    chart.on("click", function (params) {
      if (params.data && params.data.url) {
        window.location.href = childUrl(params.data.url);
      }
    });
  }

  var map = null;
  var childLayer = null;
  var fitted = false;

  function classes(values) {
    var nums = values.filter(function (v) { return v !== null && v !== undefined; });
    if (!nums.length) {
      return null;
    }
    var min = Math.min.apply(null, nums);
    var max = Math.max.apply(null, nums);
    var steps = [];
    for (var i = 1; i < ramp.length; i++) {
      steps.push(min + (max - min) * i / ramp.length);
    }
    return { min: min, max: max, steps: steps };
  }

  function colourFor(value, scale) {
    if (value === null || value === undefined || !scale) {
      return big ? "#33434d" : "#d5dadc";
    }
    var i = 0;
    while (i < scale.steps.length && value > scale.steps[i]) {
      i++;
    }
    return ramp[i];
  }

  function renderLegend(metric, scale) {
    var legend = document.getElementById("dash-legend");
    if (!legend) {
      return;
    }
    legend.textContent = "";
    if (!metric || !scale) {
      return;
    }
    var title = document.createElement("span");
    title.className = "dash-legend__title";
    title.textContent = metric.label;
    legend.appendChild(title);
    var bounds = [scale.min].concat(scale.steps).concat([scale.max]);
    var single = scale.max === scale.min;
    for (var i = single ? ramp.length - 1 : 0; i < ramp.length; i++) {
      var item = document.createElement("span");
      item.className = "dash-legend__item";
      var swatch = document.createElement("i");
      swatch.style.background = ramp[i];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(single ? scale.max.toLocaleString() :
        Math.round(bounds[i]).toLocaleString() + "–" + Math.round(bounds[i + 1]).toLocaleString()));
      legend.appendChild(item);
    }
    var none = document.createElement("span");
    none.className = "dash-legend__item";
    var sw = document.createElement("i");
    sw.style.background = colourFor(null, null);
    none.appendChild(sw);
    none.appendChild(document.createTextNode(d0suppressed() ? strings.suppressed : strings.none));
    legend.appendChild(none);
  }

  function d0suppressed() {
    return Boolean(data.suppressed);
  }

  function renderMap(d) {
    var holder = document.getElementById("dash-map");
    if (!holder || !hasMap) {
      return;
    }
    if (!map) {
      map = L.map(holder, { zoomSnap: 0.25, maxZoom: 17, scrollWheelZoom: false,
        attributionControl: false });
    }
    var metric = currentMetric(d);
    var values = metric ? metric.values : {};
    var scale = metric ? classes(d.children.map(function (c) { return values[c.code]; })) : null;
    if (childLayer) {
      childLayer.remove();
    }
    var layers = [];
    if (d.map.outline) {
      layers.push(L.geoJSON(d.map.outline, { interactive: false,
        style: { color: big ? "#7fa7b8" : "#5b6770", weight: 2, dashArray: "6 4", fill: false } }));
    }
    var few = (d.map.children.features || []).length <= 24;
    var shapes = L.geoJSON(d.map.children, {
      style: function (feature) {
        return { color: big ? "#0d1b24" : "#ffffff", weight: 1.5,
          fillColor: colourFor(values[feature.properties.code], scale), fillOpacity: 0.9,
          className: "map-area map-area--link" };
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        var v = values[p.code];
        layer.bindTooltip(few ? p.name : p.name + (metric ? ": " + fmt(v) : ""), {
          permanent: few, direction: "center", className: "map-label" });
        if (!few && metric) {
          layer.bindTooltip(p.name + ": " + fmt(v), { direction: "top" });
        }
        layer.on("click", function () { window.location.href = childUrl(p.url); });
        layer.on("mouseover", function () { layer.setStyle({ weight: 3 }); });
        layer.on("mouseout", function () { shapes.resetStyle(layer); });
      }
    });
    layers.push(shapes);
    // Children without a boundary (compounds): dots, also links.
    d.children.forEach(function (c) {
      var hasShape = (d.map.children.features || []).some(function (f) { return f.properties.code === c.code; });
      if (!hasShape && c.lat !== null && c.lng !== null) {
        var dot = L.circleMarker([c.lat, c.lng], { radius: big ? 11 : 8, weight: 2,
          color: big ? "#0d1b24" : "#ffffff", fillColor: colourFor(values[c.code], scale), fillOpacity: 1 });
        dot.bindTooltip(c.name + (metric ? ": " + fmt(values[c.code]) : ""), { direction: "top" });
        dot.on("click", function () { window.location.href = childUrl(c.url); });
        layers.push(dot);
      }
    });
    (d.map.facilities || []).forEach(function (f) {
      var marker = L.circleMarker([f.lat, f.lng], { radius: big ? 6 : 4, weight: 1,
        color: "#ffffff", fillColor: "#b3484e", fillOpacity: 1, interactive: true,
        bubblingMouseEvents: false });
      marker.bindTooltip(f.name + " · " + f.kind_label, { direction: "top" });
      layers.push(marker);
    });
    (d.map.hot_spots || []).forEach(function (pt) {
      var spot = L.circleMarker([pt.lat, pt.lng], { radius: Math.min(22, 6 + Math.sqrt(pt.value || 1) * 3),
        weight: 2, color: "#ffffff", fillColor: "#e8a33d", fillOpacity: 0.8, bubblingMouseEvents: false });
      spot.bindTooltip((strings.hot_spot || "") + " " + pt.name + ": " + fmt(pt.value), { direction: "top" });
      spot.on("click", function () { window.location.href = childUrl(pt.url); });
      layers.push(spot);
    });
    (d.map.points || []).forEach(function (pt) {
      // Open cases: small dots, red when past their deadline.
      var marker = L.circleMarker([pt.lat, pt.lng], { radius: big ? 5 : 3.5, weight: 1,
        color: "#ffffff", fillColor: pt.overdue ? "#c62828" : "#6d4c9f", fillOpacity: 0.9,
        bubblingMouseEvents: false });
      marker.bindTooltip(pt.name + (pt.label ? " · " + pt.label : "") +
        (pt.overdue ? " · " + (strings.overdue || "") : ""), { direction: "top" });
      layers.push(marker);
    });
    if (!d.children.length && d.map.center) {
      // A compound: no areas below; its own place on the map.
      var here = L.circleMarker(d.map.center, { radius: big ? 14 : 10, weight: 3,
        color: big ? "#0d1b24" : "#ffffff", fillColor: ramp[ramp.length - 1], fillOpacity: 1 });
      here.bindTooltip(d.name, { permanent: true, direction: "top", offset: [0, -10],
        className: "map-label" });
      layers.push(here);
    }
    childLayer = L.featureGroup(layers);
    if (!fitted) {
      var bounds = shapes.getLayers().length ? shapes.getBounds() : childLayer.getBounds();
      if (bounds.isValid()) {
        map.fitBounds(bounds, { padding: [12, 12] });
      } else if (d.map.center) {
        map.setView(d.map.center, 16);
      } else {
        map.setView([30.66, 104.06], 10);
      }
      fitted = true;
    }
    childLayer.addTo(map);
    renderLegend(metric, scale);
    holder.classList.add("map--ready");
  }

  function renderAll(d) {
    renderNumbers(d);
    renderCharts(d);
    renderMap(d);
  }

  renderAll(data);
  if (metricSelect) {
    metricSelect.addEventListener("change", function () {
      renderMap(data);
      renderRank(data);
    });
  }
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });

  /* --- big screen: refresh from the API ------------------------------------------------ */
  if (big && config.api && config.refresh) {
    var stamp = document.getElementById("dash-updated");
    var refresh = function () {
      fetch(config.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (fresh) {
          data = fresh;
          renderAll(fresh);
          if (stamp) {
            stamp.textContent = strings.updated + " " + new Date().toLocaleTimeString();
          }
          document.body.setAttribute("data-refreshed", String(Date.now()));
        })
        .catch(function () {
          if (stamp) {
            stamp.textContent = strings.offline;
          }
        });
    };
    window.setInterval(refresh, config.refresh * 1000);
    window.setTimeout(refresh, 1000);
  }
})();
