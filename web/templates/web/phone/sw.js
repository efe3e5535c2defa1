// The phone app's service worker (scope /m/): the app shell is cached when the app is first opened,
// so it opens with no network. Pages and /jsi18n/: network first (the current language and
// version), the cached copy when offline. Static files: cache first (the list changes the version).
// The REST API is not touched here: the pages keep their last answers in IndexedDB (app.js).
const VERSION = {{ version|safe }};
const PRECACHE = {{ precache|safe }};
const CACHE = `zw-phone-${VERSION}`;
const OFFLINE_PAGE = {{ offline_page|safe }}; // opened for an app address never cached (e.g. /m/ itself)

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("zw-phone-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    // ignoreVary: pages vary on Accept-Language and Cookie, and the precached copy was fetched with other headers.
    const cached = await cache.match(request, { ignoreSearch: request.mode === "navigate", ignoreVary: true });
    if (cached) return cached;
    if (request.mode === "navigate") {
      const fallback = await cache.match(OFFLINE_PAGE, { ignoreVary: true });
      if (fallback) return fallback;
    }
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreVary: true });
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return;
  if (event.request.mode === "navigate" || url.pathname === "/jsi18n/" || url.pathname.startsWith("/m/")) {
    event.respondWith(networkFirst(event.request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(event.request));
  }
});
