/* The visit page's service worker (scope /campaigns/): the page opens with no connection once
 * it has been loaded online.
 *
 * - install: the page's static assets are fetched into the cache (the list comes from the
 *   server, with a version that changes when it does: a new list is a new worker);
 * - the visit page itself (/campaigns/<id>/visit/): network first; every answer from the
 *   server replaces the copy kept here, and without a connection the copy is shown. The page
 *   asks for its copy to be made right after its first load (it was not controlled yet);
 * - the assets: network first as well, the cached copy offline;
 * - a visit page answered by a redirect (signed out, session ended) drops the kept pages;
 * - nothing else is touched: the sync API and the other pages go to the network as usual.
 */
"use strict";

const CONFIG = {{ config|safe }};
const PREFIX = "shequ-visit-";
const CACHE = PREFIX + CONFIG.version;
const PAGE = new RegExp(CONFIG.page);
const ASSETS = new Set(CONFIG.precache.map((path) => new URL(path, self.location.origin).href));

function isPage(url) {
  return url.origin === self.location.origin && PAGE.test(url.pathname);
}

async function forgetPages(cache) {
  for (const request of await cache.keys()) {
    if (isPage(new URL(request.url))) await cache.delete(request);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(CONFIG.precache))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))
      ))
      .then(() => self.clients.claim())
  );
});

async function keepPage(href) {
  const url = new URL(href);
  if (!isPage(url)) return false;
  const cache = await caches.open(CACHE);
  const response = await fetch(url.href, { credentials: "same-origin", redirect: "manual" });
  if (response.type === "opaqueredirect") {
    await forgetPages(cache);
    return false;
  }
  if (!response.ok) return false;
  await cache.put(url.href, response);
  return true;
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const port = event.ports && event.ports[0];
  if (data.type !== "keep-page") return;
  event.waitUntil(
    keepPage(data.url)
      .catch(() => false)
      .then((kept) => { if (port) port.postMessage({ kept: kept }); })
  );
});

async function networkFirst(event, page) {
  const cache = await caches.open(CACHE);
  const request = event.request;
  try {
    const response = await fetch(request);
    if (page && response.type === "opaqueredirect") {
      await forgetPages(cache);
    } else if (response.ok) {
      event.waitUntil(cache.put(request.url, response.clone()));
    }
    return response;
  } catch (error) {
    const kept = (await cache.match(request.url, { ignoreVary: true })) ||
      (page && await cache.match(request.url, { ignoreVary: true, ignoreSearch: true }));
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (request.mode === "navigate" && isPage(url)) {
    event.respondWith(networkFirst(event, true));
  } else if (ASSETS.has(url.origin + url.pathname)) {
    event.respondWith(networkFirst(event, false));
  }
});
