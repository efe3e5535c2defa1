// /m/scan/: read a batch label's QR with the rear camera (or type its code), show the batch, and queue
// the driver's pickup, drop-off or refusal on the phone first (app.js uploads it).
import {
  api, ApiError, config, enqueue, flash, flashClear, kg, OfflineError, queueItems, requireToken, savedRead,
  showFieldErrors, syncQueue,
} from "./app.js";

const MAX_KG = 60000; // a batch weighs at most 60 t (waste.services.batches.MAX_BATCH_KG)
const CODE = /^ZW[0-9A-HJKMNP-TV-Z]{11}[0-9A-Z]$/;

const video = document.getElementById("video");
const cameraState = document.getElementById("camera-state");
const reader = document.getElementById("reader");
const batchBox = document.getElementById("batch");
const form = document.getElementById("action-form");
let detector = null;
let paused = false;
let current = null; // {code, qr, stop, detail}

// --- Codes: our labels hold <PUBLIC_BASE_URL>/t/<code>; anything else is another system's QR.
function normalise(raw) {
  return raw.trim().toUpperCase().replace(/[-\s]/g, "");
}

function codeFromQr(raw) {
  const text = raw.trim();
  if (!text.startsWith(config.labelBase)) return null;
  const code = normalise(text.slice(config.labelBase.length));
  return CODE.test(code) ? code : null;
}

// --- Today's round, as last read (app.js keeps it in IndexedDB)
async function roundStops() {
  let trips;
  try {
    trips = await api("trips/today/", { cache: true });
  } catch (exc) {
    if (!(exc instanceof OfflineError)) throw exc;
    trips = await savedRead("trips/today/");
  }
  if (!trips) return null;
  return trips.results.flatMap((trip) => trip.stops.map((stop) => ({ ...stop, trip: trip.id })));
}

async function prefetchRound() {
  // Online: keep each batch of today's round on the phone, so a scan shows it in a basement too.
  if (!navigator.onLine) return;
  try {
    const stops = (await roundStops()) || [];
    for (const stop of stops.filter((s) => s.batch)) await api(`batches/${stop.batch}/`, { cache: true });
  } catch (exc) {
    if (!(exc instanceof OfflineError) && !(exc instanceof ApiError)) throw exc;
  }
}

// --- The batch card

function fill(code, detail, stop, source) {
  document.getElementById("batch-code").textContent = code;
  const unknown = gettext("unknown: it will be checked on upload");
  document.getElementById("batch-waste").textContent = detail ? `${detail.waste_code} ${detail.waste_name}` : (stop && stop.waste_name) || unknown;
  document.getElementById("batch-quantity").textContent = detail ? kg(detail.last_weight_kg || detail.quantity_kg) : unknown;
  document.getElementById("batch-generator").textContent = detail ? detail.generator : (stop && stop.site_name) || unknown;
  document.getElementById("batch-source").textContent = source;
  document.getElementById("weight").value = detail ? Number(detail.last_weight_kg || detail.quantity_kg) : "";
}

async function show(code, qr) {
  flashClear();
  paused = true;
  const stops = await roundStops().catch(() => null);
  const stop = stops ? stops.find((s) => s.batch === code) || null : null;
  let detail = null;
  let source;
  try {
    detail = await api(`batches/${code}/`, { cache: true });
    source = detail.offline ? gettext("Offline: as saved on this phone with today's round.") : gettext("From the server.");
  } catch (exc) {
    if (exc instanceof ApiError) {
      flash(exc.message);
      paused = false;
      return;
    }
    if (!(exc instanceof OfflineError)) throw exc;
    source = stop
      ? gettext("Offline: from today's round saved on this phone.")
      : gettext("Offline and not saved on this phone: the batch will be checked on upload.");
  }
  current = { code, qr, stop, detail };
  fill(code, detail, stop, source);
  document.getElementById("not-on-round").hidden = !stops || Boolean(stop);
  showFieldErrors(form, null);
  batchBox.hidden = false;
  reader.hidden = true;
}

function reset() {
  current = null;
  batchBox.hidden = true;
  reader.hidden = false;
  form.reset();
  document.getElementById("refuse").open = false;
  paused = false;
}

async function onRead(raw) {
  const code = codeFromQr(raw);
  if (!code) {
    flash(gettext("This QR code is not a batch label of this system. Nothing was recorded."));
    return;
  }
  await show(code, raw.trim());
}

// --- Camera
async function makeDetector() {
  if ("BarcodeDetector" in window) {
    try {
      if ((await window.BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
        return new window.BarcodeDetector({ formats: ["qr_code"] });
      }
    } catch (exc) {
      // no native reader on this phone: the polyfill below
    }
  }
  const polyfill = window.BarcodeDetectionAPI;
  // The zxing .wasm comes from this server (vendored), never from a CDN.
  const wasm = new URL(config.wasm, location.href).href;
  polyfill.prepareZXingModule({ overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) } });
  return new polyfill.BarcodeDetector({ formats: ["qr_code"] });
}

let lastRead = "";
async function detectLoop() {
  if (!paused && video.readyState >= 2) {
    try {
      const found = await detector.detect(video);
      const raw = found.length ? found[0].rawValue : "";
      if (raw && raw !== lastRead) {
        lastRead = raw;
        await onRead(raw);
      } else if (!raw) {
        lastRead = "";
      }
    } catch (exc) {
      cameraState.textContent = gettext("The camera picture could not be read: type the code below.");
    }
  }
  setTimeout(detectLoop, 250);
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    cameraState.textContent = gettext("No camera here: type the code below.");
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    video.srcObject = stream;
    await video.play();
    detector = await makeDetector();
  } catch (exc) {
    cameraState.textContent = gettext("The camera is not available: type the code below.");
    return;
  }
  cameraState.textContent = gettext("Point the camera at the label's QR code.");
  reader.dataset.camera = "on";
  detectLoop();
}

// --- Position and clock go with every scan
function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ type: "Point", coordinates: [p.coords.longitude, p.coords.latitude] }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 5000, maximumAge: 30000 },
    );
  });
}

async function deviceId() {
  const stored = localStorage.getItem("zw-device-id");
  if (stored) return stored;
  const id = crypto.randomUUID();
  localStorage.setItem("zw-device-id", id);
  return id;
}

// --- Confirm, correct the weight, or refuse
function check(action, values) {
  const errors = {};
  if (action !== "refuse" && values.weight_kg !== "") {
    const weight = Number(values.weight_kg);
    if (!Number.isFinite(weight) || weight <= 0 || weight > MAX_KG) {
      errors.weight_kg = [interpolate(gettext("Enter a weight above 0 and at most %s kg."), [MAX_KG.toLocaleString(config.language)])];
    }
  }
  if (action === "refuse" && !values.reason.trim()) errors.reason = [gettext("Say why you refuse the batch.")];
  return errors;
}

async function answerOf(key) {
  return (await queueItems()).find((item) => item.key === key);
}

const ACTION_DONE = {
  pickup: () => gettext("Pickup recorded."),
  dropoff: () => gettext("Drop-off recorded."),
  refuse: () => gettext("Refusal recorded."),
};

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const action = event.submitter && event.submitter.value;
  if (!current || !action) return;
  const values = Object.fromEntries(new FormData(form));
  const errors = check(action, values);
  showFieldErrors(form, { fields: errors });
  if (Object.keys(errors).length) return;
  if (action === "refuse" && !current.stop) {
    flash(gettext("Only a batch on today's round can be refused here; leave it and tell the office."));
    return;
  }
  const summary = {
    code: current.code,
    action,
    waste: current.detail ? `${current.detail.waste_code} ${current.detail.waste_name}` : "",
  };
  let item;
  if (action === "refuse") {
    item = await enqueue("refusal", { trip: current.stop.trip, sequence: current.stop.sequence, reason: values.reason.trim() }, summary);
  } else {
    const body = {
      action,
      scanned_at: new Date().toISOString(), // the phone's clock
      device_id: await deviceId(),
      ...(current.qr ? { qr: current.qr } : { code: current.code }),
    };
    const where = await position();
    if (where) body.location = where;
    if (values.weight_kg !== "") body.weight_kg = Number(values.weight_kg).toFixed(3);
    item = await enqueue("scan", body, summary);
  }
  reset();
  flash(gettext("Saved on this phone. It uploads when the network is there."), "warning");
  if (!navigator.onLine) return;
  await syncQueue();
  const answered = await answerOf(item.key);
  if (!answered || answered.state === "waiting") return;
  if (answered.state === "refused") {
    flash(interpolate(gettext("Refused by the server: %s"), [answered.answer.error.message]));
  } else {
    flash(ACTION_DONE[action](), "ok");
  }
});

document.getElementById("scan-another").addEventListener("click", () => {
  flashClear();
  reset();
});

document.getElementById("typed-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = normalise(document.getElementById("typed-code").value);
  if (!CODE.test(code)) {
    flash(gettext("That is not a batch code: it starts with ZW and has 14 characters."));
    return;
  }
  document.getElementById("typed-code").value = "";
  await show(code, null);
});

(async () => {
  if (!(await requireToken())) return;
  startCamera();
  prefetchRound();
})();
