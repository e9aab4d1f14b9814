/* walkapp's service worker, written by walkapp/pwa/routes.py (why by hand, not Workbox: see there).
   - The app shell (CSS, JS, vendor files, icons, the offline page) is precached under the
     content-hashed URLs of this deploy, in a cache named after it; older shells are deleted
     when this worker takes over.
   - Pages the server marks with the keep header (a walk one may report on: its page, its
     report form, its map items; the header names the person) are stored when they are
     fetched and served when there is no connection. They live in one personal cache, emptied
     at sign-out, when a page says nobody is signed in, and before another person's page is
     stored. Photos and all other pages are never cached.
   - With OFFLINE_TILES on, the tiles of a kept walk's area are fetched once and served from
     the cache. */
"use strict";
var VERSION = {{ version|tojson }};
var SHELL = "walkapp-shell-" + VERSION;
var PAGES = "walkapp-pages";
var TILES = "walkapp-tiles";
var META = "walkapp-meta";
var META_KEY = "/__walkapp-meta";
var PERSONAL = [PAGES, TILES];
var PRECACHE = {{ precache|tojson }};
var OFFLINE = {{ offline|tojson }};
var DEFAULT_LANGUAGE = {{ default_language|tojson }};
var KEEP_HEADER = {{ keep_header|tojson }};
var LOGOUT = {{ url_for('auth.logout')|tojson }};
var REPORT = {{ url_for('observations.report')|tojson }};
var DATA = {{ url_for('api.observations')|tojson }};
var WALK_PAGE = /^\/walks\/(\d+)$/;
var TILE_PATTERN = {{ tile_pattern|tojson }} ? new RegExp({{ tile_pattern|tojson }}) : null;
var TILE_BUDGET = {{ tile_budget|tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    var offline = Object.keys(OFFLINE).map(function (k) { return OFFLINE[k]; });
    return cache.addAll(PRECACHE.concat(offline));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("walkapp-shell-") === 0 && n !== SHELL; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

// ---- who is signed in (only the id and the language are kept) ------------------------------
function readMeta() {
  return caches.match(META_KEY, { cacheName: META }).then(function (r) { return r ? r.json() : {}; })
    .catch(function () { return {}; });
}
function writeMeta(meta) {
  return caches.open(META).then(function (cache) {
    return cache.put(META_KEY, new Response(JSON.stringify(meta), { headers: { "Content-Type": "application/json" } }));
  });
}
function forget() {
  return Promise.all(PERSONAL.map(function (n) { return caches.delete(n); }));
}
// A page says who is signed in ("" for nobody): anybody else's kept pages go.
function hello(user, language) {
  return readMeta().then(function (meta) {
    var leave = !user || (meta.user && meta.user !== user) ? forget() : Promise.resolve();
    return leave.then(function () { return writeMeta({ user: user, lang: language || meta.lang }); });
  });
}
self.addEventListener("message", function (event) {
  var m = event.data || {};
  if (m.type === "hello") event.waitUntil(hello(String(m.user || ""), m.lang));
});

// ---- keeping pages ---------------------------------------------------------------------------
function keep(owner, url, response) {
  return readMeta().then(function (meta) {
    var leave = meta.user !== owner ? forget() : Promise.resolve();
    return leave.then(function () { return writeMeta({ user: owner, lang: meta.lang }); });
  }).then(function () {
    return caches.open(PAGES).then(function (cache) { return cache.put(url, response); });
  }).then(function () {
    var walk = WALK_PAGE.exec(new URL(url).pathname);
    if (!walk) return;
    // the walk's report form too, so that it opens offline even if it was never opened online
    return keepReportForm(walk[1]).then(function () {
      if (TILE_PATTERN) return keepTiles(url + "/offline-tiles");
    });
  });
}
function keepReportForm(walkId) {
  var url = new URL(REPORT + "?walk=" + walkId, self.location.origin).href;
  return fetch(url, { credentials: "same-origin" }).then(function (response) {
    var owner = response.headers.get(KEEP_HEADER);
    if (!owner || response.status !== 200 || response.redirected) return;
    return readMeta().then(function (meta) {
      if (meta.user === owner) return caches.open(PAGES).then(function (cache) { return cache.put(url, response); });
    });
  }).catch(function () { /* no connection: kept when the form is opened */ });
}
function network(event) {
  return fetch(event.request).then(function (response) {
    var owner = response.headers.get(KEEP_HEADER);
    if (owner && response.status === 200 && !response.redirected) {
      event.waitUntil(keep(owner, event.request.url, response.clone()).catch(function () { /* storage full */ }));
    }
    return response;
  });
}
function kept(url) {
  return caches.match(url, { cacheName: PAGES }).catch(function () { return undefined; });
}
function offlinePage() {
  return readMeta().then(function (meta) {
    return caches.match(OFFLINE[meta.lang] || OFFLINE[DEFAULT_LANGUAGE], { cacheName: SHELL });
  });
}
function page(event) {
  return network(event).catch(function () {
    return kept(event.request.url).then(function (hit) { return hit || offlinePage(); })
      .then(function (answer) { return answer || Response.error(); });
  });
}
function data(event) {
  return network(event).catch(function () {
    return kept(event.request.url).then(function (hit) { return hit || Response.error(); });
  });
}
function shell(request) {
  return caches.match(request, { cacheName: SHELL }).then(function (hit) { return hit || fetch(request); });
}

// ---- tiles -------------------------------------------------------------------------------------
function keepTiles(listUrl) {
  return fetch(listUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : { tiles: [] }; })
    .then(function (body) {
      return caches.open(TILES).then(function (cache) {
        // one at a time: a tile server is not to be hammered
        return (body.tiles || []).slice(0, TILE_BUDGET).reduce(function (chain, url) {
          return chain.then(function () {
            return cache.match(url).then(function (hit) {
              if (hit) return;
              return fetch(url, { mode: "cors", credentials: "omit" }).then(function (r) {
                if (r.ok) return cache.put(url, r);
              }).catch(function () { /* no CORS or no connection: shown when online */ });
            });
          });
        }, Promise.resolve());
      });
    });
}
function tile(request) {
  return caches.match(request.url, { cacheName: TILES }).then(function (hit) { return hit || fetch(request); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  var local = url.origin === self.location.origin;
  if (request.method !== "GET") {
    if (local && url.pathname === LOGOUT) event.waitUntil(forget().then(function () { return writeMeta({}); }));
    return;
  }
  if (local && url.pathname.indexOf("/static/") === 0) event.respondWith(shell(request));
  else if (local && request.mode === "navigate") event.respondWith(page(event));
  else if (local && url.pathname === DATA) event.respondWith(data(event));
  else if (TILE_PATTERN && TILE_PATTERN.test(request.url)) event.respondWith(tile(request));
});
