// Location sharing: while the driver's round of today has an open trip (planned, a stop still to do),
// the phone watches its position, keeps the points in IndexedDB and uploads them in batches to
// POST /api/v1/positions/bulk/ (the vehicle = the trip's vehicle). Never outside an open trip: no trip,
// a finished one, or no signed-in driver → the watch is cleared. Every page of the app but the login
// page loads this module and shows the status line (#tracking) under the header.
//
// Uploads follow the scan queue's discipline (app.js): one at a time on this phone (a Web Lock), the
// Bearer device token, and a point leaves the phone only once the server answered for it. The key on
// the server is (vehicle, time), so a batch sent again after a lost answer comes back "duplicate".
import { api, ApiError, config, db, hhmm, OfflineError, savedRead, tokenGet } from "./app.js";

const MAX_POINTS = 5000; // kept on the phone; beyond, the oldest are dropped (and the driver told)
const MAX_BULK = 500; // points per upload; the server takes up to 1000
const EVERY_MS = (config.positionsEverySeconds || 30) * 1000;
// Thinning: a point is kept when it is 10 s after the last kept one or 20 m away from it, and never
// two within 2 s (a fast truck would otherwise send one a second).
const MIN_SECONDS = 10;
const MIN_METRES = 20;
const FLOOR_SECONDS = 2;
const SAVED_ROUND_HOURS = 12; // offline, a round read longer ago than this is not trusted to be open
const TRIP_EVERY_TICKS = 2; // the round is read again every other upload tick (a finished trip stops it)

let watchId = null;
let trip = null; // {id, vehicle, plate} of the open trip, or null
let last = null; // the last point kept: {time (ms), lat, lon}
let state = "off"; // off | on | denied | unavailable
let ticks = 0;

// --- What the phone keeps
async function meta() {
  return (await (await db()).get("meta", "positions")) || { lastSentAt: null, dropped: 0, refused: 0, reason: "" };
}
async function metaUpdate(change) {
  const database = await db();
  const tx = database.transaction("meta", "readwrite");
  const current = (await tx.store.get("positions")) || { lastSentAt: null, dropped: 0, refused: 0, reason: "" };
  await tx.store.put({ ...current, ...change(current) }, "positions");
  await tx.done;
}

function metres(a, b) {
  // Haversine: plenty for "has the truck moved 20 m".
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function worthKeeping(point) {
  if (!last) return true;
  const seconds = (point.time - last.time) / 1000;
  if (seconds < FLOOR_SECONDS) return false;
  return seconds >= MIN_SECONDS || metres(last, point) >= MIN_METRES;
}

async function keep(position) {
  if (!trip) return;
  const { latitude: lat, longitude: lon, speed, heading } = position.coords;
  const point = { time: position.timestamp || Date.now(), lat, lon };
  if (!worthKeeping(point)) return;
  last = point;
  const time = new Date(point.time).toISOString();
  const database = await db();
  const tx = database.transaction("positions", "readwrite");
  await tx.store.put({
    key: `${time}|${trip.vehicle}`,
    vehicle: trip.vehicle,
    time,
    lon,
    lat,
    speed: Number.isFinite(speed) ? Math.round(speed * 3.6 * 10) / 10 : null, // m/s → km/h
    heading: Number.isFinite(heading) ? heading : null, // NaN when standing still
  });
  let over = (await tx.store.count()) - MAX_POINTS;
  const dropped = Math.max(over, 0);
  for (let cursor = over > 0 ? await tx.store.openCursor() : null; cursor && over > 0; over -= 1) {
    await cursor.delete(); // oldest first (keys start with the time)
    cursor = await cursor.continue();
  }
  await tx.done;
  if (dropped) await metaUpdate((m) => ({ dropped: m.dropped + dropped }));
  await render();
}

// --- Uploads
async function uploadOnce() {
  const database = await db();
  const points = await database.getAll("positions", null, MAX_BULK);
  if (!points.length) return false;
  const body = {
    positions: points.map((p) => ({
      vehicle: p.vehicle,
      time: p.time,
      point: { type: "Point", coordinates: [p.lon, p.lat] },
      speed: p.speed,
      heading: p.heading,
    })),
  };
  let results;
  try {
    results = (await api("positions/bulk/", { method: "POST", body })).results;
  } catch (exc) {
    // A malformed upload as a whole (it never is): each point would be refused again, so say it and let go.
    if (!(exc instanceof ApiError) || exc.status !== 400) throw exc;
    results = points.map((_p, index) => ({ index, status: "rejected", error: { message: exc.message } }));
  }
  // Created, flagged and duplicate points are on the server; a refused one (say a phone clock far ahead)
  // would be refused again: each leaves the phone, the refusals counted on the status line.
  const refused = results.filter((r) => r.status === "rejected");
  const tx = database.transaction("positions", "readwrite");
  await Promise.all([...points.map((p) => tx.store.delete(p.key)), tx.done]);
  await metaUpdate((m) => ({
    lastSentAt: new Date().toISOString(),
    refused: m.refused + refused.length,
    reason: refused.length ? refused[0].error.message : m.reason,
  }));
  return points.length === MAX_BULK; // more may wait
}

let again = false;
/** Uploads the kept points, oldest first; one upload at a time on this phone. */
export async function syncPositions() {
  if (!(await tokenGet())) return false;
  return navigator.locks.request("zw-phone-positions", { ifAvailable: true }, async (lock) => {
    if (!lock) {
      again = true;
      return false;
    }
    try {
      do {
        again = false;
        while (await uploadOnce()); // batches until none is full
      } while (again);
      return true;
    } catch (exc) {
      if (exc instanceof OfflineError || exc instanceof ApiError) return false; // kept: the next tick, or back online
      throw exc;
    } finally {
      await render();
    }
  });
}

// --- The open trip and the watch
async function openTrip() {
  if (!(await tokenGet())) return null;
  let answer;
  try {
    answer = await api("trips/today/", { cache: true });
  } catch (exc) {
    if (!(exc instanceof OfflineError || exc instanceof ApiError)) throw exc;
    answer = await savedRead("trips/today/");
  }
  if (!answer) return null;
  if (answer.offline && Date.now() - Date.parse(answer.savedAt) > SAVED_ROUND_HOURS * 3600 * 1000) return null;
  const open = (answer.results || []).find((t) => t.status === "planned" && t.current_stop !== null);
  return open ? { id: open.id, vehicle: open.vehicle, plate: open.plate } : null;
}

function startWatch() {
  if (watchId !== null || !("geolocation" in navigator)) {
    if (!("geolocation" in navigator)) state = "unavailable";
    return;
  }
  state = "on";
  watchId = navigator.geolocation.watchPosition(
    (position) => {
      if (state !== "on") state = "on";
      keep(position);
    },
    (error) => {
      if (error.code === error.PERMISSION_DENIED) stopWatch("denied");
      else if (error.code === error.POSITION_UNAVAILABLE) state = "unavailable"; // "on" again with the next fix
      // A timeout only means no new fix yet (a truck standing still): sharing stays on.
      render();
    },
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 },
  );
}

function stopWatch(next = "off") {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  state = next;
}

/** Reads the round again: starts the watch on an open trip, stops it when there is none. */
export async function refreshTrip() {
  trip = await openTrip();
  if (!trip) stopWatch(state === "denied" ? "denied" : "off");
  else if (state !== "denied") startWatch();
  await render();
}

function standingStill() {
  // A truck standing still may get no new position from the watch: ask once per tick, so the office
  // sees it stopped rather than silent.
  if (watchId === null || !trip || (last && Date.now() - last.time < EVERY_MS)) return;
  navigator.geolocation.getCurrentPosition(keep, () => {}, { enableHighAccuracy: true, maximumAge: 0, timeout: 20000 });
}

// --- The status line
async function render() {
  const line = document.getElementById("tracking");
  if (!line) return;
  const waiting = await (await db()).count("positions");
  const m = await meta();
  line.hidden = false;
  line.dataset.state = state;
  const what = {
    on: () => interpolate(gettext("Location sharing on (%s)"), [trip ? trip.plate : ""]),
    off: () => gettext("Location sharing off: no open trip"),
    denied: () => gettext("Location refused on this phone: the office cannot see the truck. Scanning still works; allow location for this site in the browser's settings."),
    unavailable: () => gettext("This phone cannot give its location now."),
  }[state]();
  document.getElementById("tracking-state").textContent = what;
  document.getElementById("tracking-sent").textContent = interpolate(gettext("last sent %s"), [hhmm(m.lastSentAt)]);
  document.getElementById("tracking-waiting").textContent = interpolate(
    ngettext("%s point waiting", "%s points waiting", waiting),
    [waiting],
  );
  const note = document.getElementById("tracking-note");
  const notes = [];
  if (m.dropped) {
    notes.push(interpolate(gettext("%(dropped)s oldest points were dropped: this phone keeps at most %(max)s."), { dropped: m.dropped, max: MAX_POINTS }, true));
  }
  if (m.refused) notes.push(interpolate(gettext("%(refused)s points refused by the server: %(reason)s"), { refused: m.refused, reason: m.reason }, true));
  note.textContent = notes.join(" ");
  note.hidden = notes.length === 0;
}

// --- Start-up
async function start() {
  await refreshTrip();
  syncPositions();
  window.addEventListener("online", () => syncPositions());
  document.addEventListener("round-changed", () => refreshTrip());
  document.addEventListener("signed-out", () => {
    trip = null;
    stopWatch();
    render();
  });
  setInterval(async () => {
    ticks += 1;
    if (ticks % TRIP_EVERY_TICKS === 0) await refreshTrip();
    standingStill();
    if (navigator.onLine) syncPositions();
  }, EVERY_MS);
}
start();
