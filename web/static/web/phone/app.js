// The phone app's shared module: the device token, the REST API, IndexedDB, the offline queue, the
// tab bar's counter and the network indicator. Every page of /m/ loads it; a page's own module
// imports what it needs from here. gettext() comes from /jsi18n/, IndexedDB through idb (vendored).
export const config = JSON.parse(document.getElementById("phone-config").textContent);

const DB_NAME = "zw-phone";
const MAX_BULK = 100; // scans per upload; the server takes up to 1000
const RETRY_MS = 30_000;
const KEEP_DONE_MS = 24 * 3600 * 1000; // answered scans stay visible for a day

let dbPromise;
export function db() {
  dbPromise ??= window.idb.openDB(DB_NAME, 2, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        database.createObjectStore("auth"); // "token", "device"
        const queue = database.createObjectStore("queue", { keyPath: "key" });
        queue.createIndex("state", "state");
        database.createObjectStore("reads", { keyPath: "path" }); // last answer of each GET
      }
      if (oldVersion < 2) {
        // The vehicle's positions while a trip is open (track.js), key "<ISO time>|<vehicle>": oldest first.
        database.createObjectStore("positions", { keyPath: "key" });
        database.createObjectStore("meta"); // "positions": last sent, dropped and refused counts
      }
    },
    blocking() {
      // Another tab of the app opens a newer version: let it, this page reopens on its next call.
      dbPromise.then((database) => database.close());
      dbPromise = undefined;
    },
  });
  return dbPromise;
}

// --- The device token (knox, "Authorization: Bearer …")
export async function tokenGet() {
  return (await db()).get("auth", "token");
}
export async function tokenSet(token) {
  await (await db()).put("auth", token, "token");
}
export async function tokenClear() {
  await (await db()).delete("auth", "token");
}

export function toLogin() {
  // The queue stays in IndexedDB: it uploads after the driver signs in again.
  const next = location.pathname + location.search;
  location.assign(`${config.pages.login}?next=${encodeURIComponent(next)}`);
}

/** Sends the driver to the login page unless this phone holds a token. */
export async function requireToken() {
  const token = await tokenGet();
  if (!token) toLogin();
  return token;
}

// --- The REST API
export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || {};
  }
}
export class OfflineError extends Error {}

function errorOf(status, body) {
  const error = body && body.error;
  if (error) return new ApiError(status, error.code, error.message, error.fields);
  if (status >= 500) return new ApiError(status, "server", gettext("The server had a problem; your scans stay on this phone and upload later."));
  return new ApiError(status, "http", interpolate(gettext("The server answered %s."), [status]));
}

/**
 * An authenticated request to /api/v1/<path>. Resolves to the JSON answer; rejects with ApiError
 * (the server's message, in the page's language) or OfflineError (no network). A 401 (token
 * revoked or expired) forgets the token and opens the login page, keeping the queue.
 * With {cache: true} (GET only): network first, and the last answer kept in IndexedDB when offline
 * (the result then has .offline = true and .savedAt).
 */
export async function api(path, { method = "GET", body, cache = false, auth = true, headers: extra = {} } = {}) {
  const url = path.startsWith("/") ? path : config.api + path;
  const headers = { Accept: "application/json", "Accept-Language": document.documentElement.lang, ...extra };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth) {
    const token = await tokenGet();
    if (!token) {
      toLogin();
      throw new ApiError(401, "not_signed_in", gettext("Sign in on this phone first."));
    }
    headers.Authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (exc) {
    setNetwork(false);
    if (cache) {
      const saved = await (await db()).get("reads", url);
      if (saved) return Object.assign(saved.body, { offline: true, savedAt: saved.savedAt });
    }
    throw new OfflineError(gettext("No network."));
  }
  setNetwork(true);
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401 && auth) {
    await tokenClear();
    toLogin();
  }
  if (!response.ok) throw errorOf(response.status, data);
  if (cache) await (await db()).put("reads", { path: url, body: data, savedAt: new Date().toISOString() });
  return data;
}

/** The last answer kept for a GET path, or undefined. */
export async function savedRead(path) {
  const saved = await (await db()).get("reads", config.api + path);
  return saved && saved.body;
}

/** A read for a page: the API's answer, or offline the last one kept on the phone (``offline`` and
 * ``savedAt`` set); null, once the driver has been told why, when there is neither. */
export async function readOrSaved(path, missing) {
  try {
    return await api(path, { cache: true });
  } catch (exc) {
    if (exc instanceof OfflineError) {
      const saved = await savedRead(path);
      if (!saved) flash(missing, "warning");
      return saved || null;
    }
    if (exc instanceof ApiError) {
      flash(exc.message);
      return null;
    }
    throw exc;
  }
}

/** A time as the phone's clock shows it, in the page's language ("—" when there is none). */
export function hhmm(iso) {
  return iso ? new Date(iso).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" }) : "—";
}

/** A weight in kilograms as the page's language writes it ("" when there is none). */
export function kg(value) {
  return value === null || value === undefined || value === "" ? "" : interpolate(gettext("%s kg"), [Number(value).toLocaleString(config.language)]);
}

// --- Messages
export function flash(message, kind = "error") {
  const box = document.getElementById("flash");
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
}
export function flashClear() {
  const box = document.getElementById("flash");
  box.hidden = true;
  box.textContent = "";
}

/** Puts an ApiError's field messages beside the inputs (elements [data-error-for=field]). */
export function showFieldErrors(form, error) {
  form.querySelectorAll("[data-error-for]").forEach((p) => {
    const messages = (error && error.fields && error.fields[p.dataset.errorFor]) || [];
    p.textContent = messages.join(" ");
    p.hidden = messages.length === 0;
  });
}

// --- The network indicator
function setNetwork(online) {
  const net = document.getElementById("net");
  if (net) net.dataset.state = online ? "online" : "offline";
}

// --- The offline queue: every scan is written here first, then uploaded; kept until the server answered.
/** Queues one scan ({code|qr, action, scanned_at, location?, weight_kg?, ...}); returns its item. */
export async function enqueue(kind, body, summary) {
  const item = {
    key: crypto.randomUUID(), // the idempotency key: a resend of this scan is answered "duplicate"
    kind, // "scan" (POST scans/bulk/), "refusal" (a failed trip stop) or "incident" (at an incident's stop)
    body,
    summary, // what the queue page shows: code, action, waste
    state: "waiting", // → "done" (created/duplicate) or "refused" (until dismissed)
    queuedAt: new Date().toISOString(),
  };
  await (await db()).put("queue", item);
  await updateCount();
  return item;
}

export async function queueItems() {
  const items = await (await db()).getAll("queue");
  return items.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
}

export async function dismiss(key) {
  await (await db()).delete("queue", key);
  await updateCount();
}

export async function updateCount() {
  const count = await (await db()).countFromIndex("queue", "state", "waiting");
  const badge = document.getElementById("queue-count");
  if (badge) {
    badge.textContent = String(count);
    badge.dataset.count = String(count);
  }
  return count;
}

async function saveAnswers(items) {
  const tx = (await db()).transaction("queue", "readwrite");
  await Promise.all([...items.map((item) => tx.store.put(item)), tx.done]);
}

async function uploadScans(items) {
  const scans = items.map((item) => ({ ...item.body, idempotency_key: item.key }));
  let answer;
  try {
    answer = await api("scans/bulk/", { method: "POST", body: { scans } });
  } catch (exc) {
    if (!(exc instanceof ApiError) || exc.status === 401 || exc.status >= 500) throw exc;
    // The upload as a whole was refused (it never is for a well-formed queue): say why on each scan.
    answer = { results: items.map((_item, index) => ({ index, status: "rejected", error: { code: exc.code, message: exc.message, fields: exc.fields } })) };
  }
  for (const result of answer.results) {
    const item = items[result.index];
    item.answeredAt = new Date().toISOString();
    if (result.status === "rejected") {
      item.state = "refused";
      item.answer = { status: "rejected", error: result.error };
    } else {
      item.state = "done";
      item.answer = { status: result.status, batch: result.batch };
    }
  }
  await saveAnswers(items);
}

// A stop the driver could not do (fail), or the driver at an incident's stop (round.js: arrived, or
// done). The item's key goes as the Idempotency-Key, so a resend after a lost answer writes nothing twice.
function uploadRefusal(item) {
  const { trip, sequence, reason } = item.body;
  return uploadStopAct(item, `trips/${trip}/stops/${sequence}/fail/`, { reason });
}

function uploadIncidentStop(item) {
  const { trip, sequence, action } = item.body;
  return uploadStopAct(item, `trips/${trip}/stops/${sequence}/incident/`, { action });
}

async function uploadStopAct(item, path, body) {
  item.answeredAt = new Date().toISOString();
  try {
    await api(path, { method: "POST", body, headers: { "Idempotency-Key": item.key } });
    item.state = "done";
    item.answer = { status: "created" };
  } catch (exc) {
    if (!(exc instanceof ApiError) || exc.status === 401 || exc.status >= 500) throw exc;
    item.state = "refused";
    item.answer = { status: "rejected", error: { code: exc.code, message: exc.message, fields: exc.fields } };
  }
  await saveAnswers([item]);
}

/** One item of the queue as the phone keeps it (its state and answer), or undefined. */
export async function queueItem(key) {
  return (await db()).get("queue", key);
}

async function prune() {
  const database = await db();
  const old = Date.now() - KEEP_DONE_MS;
  for (const item of await database.getAllFromIndex("queue", "state", "done")) {
    if (Date.parse(item.answeredAt) < old) await database.delete("queue", item.key);
  }
}

async function syncOnce() {
  try {
    const waiting = await (await db()).getAllFromIndex("queue", "state", "waiting");
    waiting.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
    const scans = waiting.filter((item) => item.kind === "scan");
    for (let i = 0; i < scans.length; i += MAX_BULK) await uploadScans(scans.slice(i, i + MAX_BULK));
    for (const item of waiting.filter((i) => i.kind === "refusal")) await uploadRefusal(item);
    for (const item of waiting.filter((i) => i.kind === "incident")) await uploadIncidentStop(item);
    await prune();
    return true;
  } catch (exc) {
    if (exc instanceof OfflineError || (exc instanceof ApiError && (exc.status >= 500 || exc.status === 401))) {
      return false; // kept: tried again when the network is back, on the next open or by the timer
    }
    flash(exc.message || String(exc));
    return false;
  } finally {
    await updateCount();
    document.dispatchEvent(new CustomEvent("queue-changed"));
  }
}

let again = false; // asked while an upload ran (a new scan, the "online" event): once more when it ends
/**
 * Uploads what waits, oldest first. One upload at a time on this phone (a Web Lock), so a timer
 * and an "online" event never send the same scans side by side; a scan whose answer was lost is
 * sent again with its key and the server answers "duplicate" without writing.
 */
export async function syncQueue() {
  if (!(await tokenGet())) return false;
  return navigator.locks.request("zw-phone-queue", { ifAvailable: true }, async (lock) => {
    if (!lock) {
      again = true;
      return false;
    }
    let done;
    do {
      again = false;
      done = await syncOnce();
    } while (again); // asked again meanwhile (a new scan, the network back): its turn now
    return done;
  });
}

// --- Start-up on every page
function start() {
  setNetwork(navigator.onLine);
  window.addEventListener("online", () => {
    setNetwork(true);
    syncQueue();
  });
  window.addEventListener("offline", () => setNetwork(false));
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.serviceWorker, { scope: "/m/" });
  }
  updateCount();
  if (location.pathname !== config.pages.login) {
    syncQueue();
    setInterval(() => navigator.onLine && syncQueue(), RETRY_MS);
  }
}
start();
