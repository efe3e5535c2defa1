// /m/: today's round. Stops in order with what to collect, the current stop first, navigation left to
// the phone (geo: link and a map page), and the route on the map island (web/map.js). The last
// answer is kept in IndexedDB (app.js), so the round opens with no network.
import { config, enqueue, flash, hhmm, kg, queueItem, readOrSaved, requireToken, syncQueue } from "./app.js";

const STATES = {
  pending: () => gettext("To do"),
  done: () => gettext("Done"),
  failed: () => gettext("Failed"),
  replanned: () => gettext("Moved to another trip"),
};

function text(root, selector, value) {
  root.querySelector(selector).textContent = value;
}

function stopItem(stop) {
  const li = document.getElementById("stop-item").content.firstElementChild.cloneNode(true);
  li.dataset.sequence = String(stop.sequence);
  li.dataset.status = stop.status;
  li.classList.toggle("current", stop.current);
  text(li, ".seq", String(stop.sequence));
  text(li, ".site", stop.incident ? stop.incident.kind_label : stop.site_name);
  text(li, ".state", stop.kind === "unload" ? gettext("Unload") : (STATES[stop.status] || (() => stop.status))());
  li.querySelector(".current-flag").hidden = !stop.current;
  const waste = stop.waste ? `${stop.waste.code} ${stop.waste.name}`.trim() : "—";
  text(li, ".waste", stop.waste && stop.waste.hazardous ? `${waste} · ${gettext("hazardous")}` : waste);
  text(li, ".batches", stop.batches.length ? stop.batches.join(", ") : "—");
  text(li, ".expected", stop.expected_kg ? kg(stop.expected_kg) : "—");
  text(li, ".window", stop.window ? `${stop.window.start || "…"}–${stop.window.end || "…"}` : gettext("Any time"));
  text(li, ".eta", hhmm(stop.eta));
  li.querySelector(".nav-geo").href = stop.navigation.geo;
  li.querySelector(".nav-map").href = stop.navigation.map_url;
  const sign = li.querySelector(".sign-link");
  const manifest = stop.manifest;
  if (manifest && stop.status === "pending" && !(manifest.consignor_signed && manifest.carriers_signed)) {
    sign.hidden = false;
    sign.href = `${config.pages.sign}?manifest=${encodeURIComponent(manifest.number)}`;
  }
  if (stop.kind === "incident") incidentPart(li, stop);
  return li;
}

/** An incident's stop: what happened there, and the driver's "arrived" and "done" (through the queue). */
function incidentPart(li, stop) {
  const incident = stop.incident;
  li.classList.add("incident");
  li.querySelector(".incident-box").hidden = false;
  if (incident) {
    text(li, ".incident-kind", interpolate(gettext("Incident: %s"), [`${incident.kind_label} · ${incident.status_label}`]));
    text(li, ".incident-description", incident.description || "—");
    const waste = [incident.waste_code, kg(incident.quantity_kg)].filter(Boolean);
    text(li, ".incident-waste", waste.length ? interpolate(gettext("Waste: %s"), [waste.join(" · ")]) : gettext("Waste not known yet"));
  }
  const [lon, lat] = stop.location;
  text(li, ".incident-place", interpolate(gettext("Place: %s"), [`${lat.toFixed(5)}, ${lon.toFixed(5)}`]));
  if (stop.status === "pending") text(li, ".state", gettext("To answer"));
  const arrived = Boolean(incident && incident.arrived);
  li.querySelector(".incident-arrived").hidden = !arrived;
  if (stop.status !== "pending") return;
  const arrive = li.querySelector(".incident-arrived-button");
  const done = li.querySelector(".incident-done-button");
  arrive.hidden = arrived;
  done.hidden = false;
  arrive.addEventListener("click", () => incidentAction(stop, "arrived", [arrive, done]));
  done.addEventListener("click", () => incidentAction(stop, "done", [arrive, done]));
}

async function incidentAction(stop, action, buttons) {
  buttons.forEach((b) => { b.disabled = true; });
  const summary = { action: action === "done" ? "incident_done" : "arrived", code: stop.incident ? `${stop.incident.kind_label} #${stop.incident.id}` : "" };
  const item = await enqueue("incident", { trip: stop.trip, sequence: stop.sequence, action }, summary);
  await syncQueue();
  const answered = await queueItem(item.key);
  if (answered && answered.state === "done") {
    flash(action === "done" ? gettext("Recorded: done at the incident.") : gettext("Recorded: on site at the incident."), "ok");
  } else if (answered && answered.state === "refused") {
    flash(interpolate(gettext("Refused: %s"), [answered.answer.error.message]));
  } else {
    flash(gettext("Saved on this phone; it uploads when the network is back."), "warning");
  }
  await load();
  document.dispatchEvent(new CustomEvent("round-changed")); // track.js: a finished trip stops location sharing
}

function drawMap(trip) {
  const box = document.getElementById("round-map-box");
  if (typeof window.zwMapInit !== "function" || typeof maplibregl === "undefined") return;
  const legs = trip.route.features.filter((f) => f.properties.kind === "leg");
  const points = trip.route.features
    .filter((f) => f.geometry.type === "Point")
    .map((f) => ({ ...f, properties: { ...f.properties, title: `${f.properties.sequence}. ${f.properties.site}`,
      current: f.properties.sequence === trip.current_stop ? "current" : f.properties.status } }));
  const mapConfig = {
    layers: [
      { id: "legs", type: "line", data: { type: "FeatureCollection", features: legs }, color: "#2e90fa",
        colorProperty: "source", colors: { road: "#2e90fa", straight_line: "#98a2b3" }, popupFields: [] },
      { id: "stops", type: "point", data: { type: "FeatureCollection", features: points }, color: "#1f7a4d",
        colorProperty: "current", colors: { current: "#f04438", pending: "#1f7a4d", done: "#98a2b3", failed: "#b54708" },
        popupFields: [] },
    ],
  };
  const data = document.createElement("script");
  data.type = "application/json";
  data.id = "round-map";
  data.textContent = JSON.stringify(mapConfig);
  const map = document.createElement("div");
  map.className = "map";
  map.dataset.map = "round-map";
  map.dataset.workerUrl = config.mapWorker;
  box.replaceChildren(data, map);
  box.hidden = false;
  window.zwMapInit(box);
}

function render(trips) {
  const list = document.getElementById("stops");
  document.getElementById("round-empty").hidden = trips.length > 0;
  document.getElementById("round-head").hidden = trips.length === 0;
  if (!trips.length) {
    list.replaceChildren();
    return;
  }
  const trip = trips.find((t) => t.current_stop !== null) || trips[0];
  text(document, "#round-plate", trip.plate);
  const source = trip.route.source;
  text(document, "#route-source", source === "road" ? gettext("The route follows the roads.")
    : source === "mixed" ? gettext("The route follows the roads where a road path was found; straight lines elsewhere.")
      : gettext("Straight lines between the stops: no road network is loaded."));
  // The current stop first, then the round in order.
  const stops = trips.flatMap((t) => t.stops.map((s) => ({ ...s, trip: t.id })));
  const ordered = [...stops.filter((s) => s.current), ...stops.filter((s) => !s.current)];
  list.replaceChildren(...ordered.map(stopItem));
  drawMap(trip);
}

async function load() {
  const answer = await readOrSaved("trips/today/", gettext("No network, and this phone has not read today's round yet."));
  if (!answer) return;
  const note = document.getElementById("saved-note");
  if (answer.offline) {
    note.textContent = interpolate(gettext("Offline: the round as read at %s."), [hhmm(answer.savedAt)]);
    note.hidden = false;
  }
  render(answer.results);
}

(async () => {
  if (!(await requireToken())) return;
  await load();
})();
