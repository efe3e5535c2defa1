// The map island: MapLibre GL (CSP build, vendored) drawing the product's own GeoJSON on a plain
// background, or on MAP_STYLE_URL (a city's own tile server) when set. Configuration comes from a
// json_script element (see web/maps.py):
//   {"layers": [{"id", "type": "polygon"|"point"|"line", "data": FeatureCollection,
//                "color", "colorProperty", "colors": {value: colour}, "popupFields": [[key, label]],
//                "legend": [[label, colour]]}], "bounds"?: [w, s, e, n]}
// A feature's "title" property heads its popup; a line's own "color" property wins over the layer's.
// A layer with "refreshUrl" reloads its FeatureCollection from that URL every "refreshSeconds" (live
// vehicles); the element's data-features-<layer id> attribute holds the number of features drawn.
(function () {
  "use strict";

  function plainStyle() {
    return { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef2f0" } }] };
  }

  function colourExpression(layer) {
    const fallback = layer.color || "#1f7a4d";
    if (layer.colorProperty && layer.colors) {
      const expr = ["match", ["to-string", ["get", layer.colorProperty]]];
      for (const [value, colour] of Object.entries(layer.colors)) expr.push(value, colour);
      expr.push(fallback);
      return expr;
    }
    return ["coalesce", ["get", "color"], fallback];
  }

  function extend(bounds, coords) {
    if (typeof coords[0] === "number") {
      bounds[0] = Math.min(bounds[0], coords[0]); bounds[1] = Math.min(bounds[1], coords[1]);
      bounds[2] = Math.max(bounds[2], coords[0]); bounds[3] = Math.max(bounds[3], coords[1]);
    } else {
      for (const c of coords) extend(bounds, c);
    }
  }

  function dataBounds(config) {
    if (config.bounds) return config.bounds;
    const bounds = [180, 90, -180, -90];
    for (const layer of config.layers || []) {
      for (const f of (layer.data && layer.data.features) || []) if (f.geometry) extend(bounds, f.geometry.coordinates);
    }
    return bounds[0] <= bounds[2] ? bounds : null;
  }

  function popupContent(feature, layer) {
    // Built with textContent: property values are never parsed as HTML.
    const root = document.createElement("div");
    root.className = "map-popup";
    const props = feature.properties || {};
    if (props.title) {
      const title = document.createElement("strong");
      title.textContent = props.title;
      root.appendChild(title);
    }
    const list = document.createElement("dl");
    for (const [key, label] of layer.popupFields || []) {
      if (props[key] === undefined || props[key] === null || props[key] === "") continue;
      const dt = document.createElement("dt"); dt.textContent = label;
      const dd = document.createElement("dd"); dd.textContent = props[key];
      list.append(dt, dd);
    }
    root.appendChild(list);
    return root;
  }

  function addLayer(map, layer) {
    const source = "src-" + layer.id;
    map.addSource(source, { type: "geojson", data: layer.data });
    const colour = colourExpression(layer);
    const ids = [];
    if (layer.type === "polygon") {
      map.addLayer({ id: layer.id, type: "fill", source, paint: { "fill-color": colour, "fill-opacity": layer.opacity ?? 0.15 } });
      map.addLayer({ id: layer.id + "-outline", type: "line", source, paint: { "line-color": colour, "line-width": 1.5 } });
      ids.push(layer.id);
    } else if (layer.type === "line") {
      map.addLayer({ id: layer.id, type: "line", source, layout: { "line-join": "round", "line-cap": "round" },
        paint: { "line-color": colour, "line-width": layer.width || 4, "line-opacity": 0.85 } });
      ids.push(layer.id);
    } else {
      map.addLayer({ id: layer.id, type: "circle", source, paint: { "circle-color": colour, "circle-radius": layer.radius || 7,
        "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 } });
      ids.push(layer.id);
    }
    return ids;
  }

  function hasPopup(feature, layer) {
    const props = feature.properties || {};
    return Boolean(props.title) || (layer.popupFields || []).some(([key]) => props[key] !== undefined && props[key] !== "");
  }

  function enablePopups(map, config, layerIds) {
    // One popup for the topmost feature under the pointer (points over lines over polygons).
    const byId = {};
    for (const layer of config.layers || []) byId[layer.id] = layer;
    map.on("click", (event) => {
      const features = map.queryRenderedFeatures(event.point, { layers: layerIds });
      const feature = features.find((f) => hasPopup(f, byId[f.layer.id]));
      if (!feature) return;
      new maplibregl.Popup({ maxWidth: "280px" }).setLngLat(event.lngLat)
        .setDOMContent(popupContent(feature, byId[feature.layer.id])).addTo(map);
    });
    map.on("mousemove", (event) => {
      const hit = map.queryRenderedFeatures(event.point, { layers: layerIds }).some((f) => hasPopup(f, byId[f.layer.id]));
      map.getCanvas().style.cursor = hit ? "pointer" : "";
    });
  }

  function legend(element, config) {
    const items = [];
    for (const layer of config.layers || []) for (const entry of layer.legend || []) items.push(entry);
    if (!items.length) return;
    const list = document.createElement("ul");
    list.className = "map-legend";
    for (const [label, colour] of items) {
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = colour;
      li.append(swatch, document.createTextNode(" " + label));
      list.appendChild(li);
    }
    element.after(list);
  }

  function count(element, layer, data) {
    element.setAttribute("data-features-" + layer.id, String(((data && data.features) || []).length));
  }

  function refresh(element, map, layer) {
    if (!layer.refreshUrl) return;
    const every = Math.max(1, layer.refreshSeconds || 5) * 1000;
    const timer = setInterval(() => {
      if (!document.body.contains(element)) { clearInterval(timer); return; }
      fetch(layer.refreshUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => {
          if (!data) return;
          map.getSource("src-" + layer.id).setData(data);
          count(element, layer, data);
          element.dataset.refreshed = String(Number(element.dataset.refreshed || 0) + 1);
        })
        .catch(() => {}); // offline for a moment: the next tick tries again
    }, every);
  }

  function initMap(element) {
    if (element.dataset.ready) return;
    element.dataset.ready = "1";
    const config = JSON.parse(document.getElementById(element.dataset.map).textContent);
    maplibregl.setWorkerUrl(element.dataset.workerUrl);
    const bounds = dataBounds(config);
    const map = new maplibregl.Map({
      container: element,
      style: element.dataset.styleUrl || plainStyle(),
      bounds: bounds || undefined,
      center: bounds ? undefined : [117.2, 39.13],
      zoom: bounds ? undefined : 8,
      fitBoundsOptions: { padding: 30, maxZoom: 14 },
      attributionControl: false,
      cooperativeGestures: false,
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    map.on("load", () => {
      const ids = [];
      for (const layer of config.layers || []) {
        ids.push(...addLayer(map, layer));
        count(element, layer, layer.data);
        refresh(element, map, layer);
      }
      enablePopups(map, config, ids);
      element.dataset.loaded = "1";
    });
    element._map = map;
    legend(element, config);
  }

  function init(root) {
    if (typeof maplibregl === "undefined") return;
    root.querySelectorAll("[data-map]").forEach(initMap);
  }

  window.zwMapInit = init; // for pages that build their map from data fetched later (the phone's round)
  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:load", (event) => init(event.detail.elt));
})();
