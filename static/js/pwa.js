/* The installable app: registers the service worker (/sw.js) and tells it who is signed in on
   every page ("" for nobody), so that the pages it keeps never outlive the person's session. */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  var d = document.currentScript.dataset;
  navigator.serviceWorker.register(d.sw, { scope: "/" }).catch(function () { /* not https: no offline */ });
  navigator.serviceWorker.ready.then(function (registration) {
    if (registration.active) registration.active.postMessage({ type: "hello", user: d.user || "", lang: d.lang });
  });
})();
