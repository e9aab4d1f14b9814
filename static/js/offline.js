/* The offline page: back, try again, and links to the pages kept on this phone (the service
   worker's "walkapp-pages" cache), each named by its own title. Only pages a person opens are
   listed: the cache also keeps data the pages load (a walk's map items from the API), which
   is not HTML. */
(function () {
  "use strict";
  document.getElementById("offline-back").addEventListener("click", function () {
    if (history.length > 1) history.back(); else location.href = "/";
  });
  document.getElementById("offline-retry").addEventListener("click", function () { location.reload(); });
  if (!window.caches) return;
  caches.has("walkapp-pages").then(function (has) {
    if (!has) return;
    return caches.open("walkapp-pages").then(function (cache) {
      return cache.keys().then(function (requests) {
        return Promise.all(requests.map(function (request) {
          return cache.match(request).then(function (r) {
            if (!r || (r.headers.get("Content-Type") || "").indexOf("text/html") !== 0) return null;
            return r.text().then(function (html) {
              var doc = new DOMParser().parseFromString(html, "text/html");
              return { url: request.url, title: doc.title || request.url };
            });
          });
        }));
      });
    });
  }).then(function (pages) {
    pages = (pages || []).filter(Boolean);
    if (!pages.length) return;
    var list = document.getElementById("kept-list");
    pages.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "card";
      var a = document.createElement("a");
      a.className = "card-title";
      a.href = p.url;
      a.textContent = p.title;
      li.append(a);
      list.append(li);
    });
    document.getElementById("kept").hidden = false;
  }).catch(function () { /* no storage: only back and try again */ });
})();
