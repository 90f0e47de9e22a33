// ResNet Lab's service worker: cross-origin isolation on hosts that send no headers, and the
// site offline after one visit. `www/finish_build.mjs` writes `dist/sw.js` from this file, with
// the build's manifest in place of the `BUILD` line below.
//
// - Isolation: the technique of the `coi-serviceworker` npm package (MIT, by Guido Zuidhof),
//   written anew here: every same-origin response is served again with COOP/COEP, so the page
//   becomes `crossOriginIsolated` (shared memory, the threaded engine) once this worker controls
//   it. The page reloads itself once for that (www/index.html). Cross-origin requests are not
//   touched: no `respondWith`, so the browser handles them as if this worker did not exist.
// - Offline: every file of the build (`BUILD.files`: the app shell and the four engine builds,
//   of which a browser runs one) is cached when this worker installs, all or nothing, in a cache
//   named by the build's content hash. So the page never mixes two deployments: a new one has a
//   new hash, installs beside the old one, and the old cache is deleted when the new worker takes
//   over. Checkpoints live in the engine's own cache, which this file never reads or deletes.
"use strict";

const BUILD = { version: "dev", files: ["./"] };

const PREFIX = "resnet-lab-app-";
const CACHE = PREFIX + BUILD.version;
const scope = new URL(self.registration.scope);
const url = (path) => new URL(path, scope).href;
const CACHED = new Set(BUILD.files.map(url));
const INDEX = url("./");

self.addEventListener("install", (event) => {
  // All or nothing: a shell that cannot be fetched whole leaves the previous version in charge.
  // The first version activates at once; a later one waits until the page lets it take over.
  // `cache: "no-cache"`: the HTTP cache may hold the previous deployment's files, so each is
  // revalidated with the server (a 304 where the page has just loaded it: not fetched twice).
  const requests = [...CACHED].map((u) => new Request(u, { cache: "no-cache" }));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(requests)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data === "take-over") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const target = new URL(request.url);
  if (target.origin !== self.location.origin) return;
  if (request.cache === "only-if-cached" && request.mode !== "same-origin") return;
  event.respondWith(respond(request, target));
});

/** A same-origin request: from this build's cache where it is one of its files, else the network. */
async function respond(request, target) {
  target.search = "";
  target.hash = "";
  const key = target.href === url("./index.html") ? INDEX : target.href;
  if (CACHED.has(key) && (request.method === "GET" || request.method === "HEAD")) {
    const hit = await caches.open(CACHE).then((cache) => cache.match(key));
    if (hit) return isolated(hit, request.method === "HEAD");
  }
  return isolated(await fetch(request), false);
}

/** `response` with the headers that make the page cross-origin isolated. */
function isolated(response, headOnly) {
  if (response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  headers.set("Cross-Origin-Resource-Policy", "same-origin");
  return new Response(headOnly ? null : response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
