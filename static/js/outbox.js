/* The phone's outbox: reports that could not be sent for want of a connection wait here
   (IndexedDB, photos included) and are sent when the connection is back: at once on the
   "online" event, on every page load, and every 30 seconds while any wait. Each report
   carries its client key, so a retry whose first answer was lost makes no second item.
   Only the signed-in person's own reports are sent, under their own session.
   The banner (#outbox in the base layout) says how many wait, and offers to discard a
   report the server refused (e.g. its walk has ended). */
(function () {
  "use strict";
  var banner = document.getElementById("outbox");
  if (!banner || !window.indexedDB) return;
  var user = banner.dataset.user;
  var csrf = banner.dataset.csrf;
  var text = function (key, n) { return (banner.dataset[key] || "").replace("{n}", n); };
  var sending = false;

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("walkapp-outbox", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("reports", { keyPath: "key" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function store(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("reports", mode);
        var result = work(tx.objectStore("reports"));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function mine() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).filter(function (r) { return r.user === user; });
    });
  }

  function show(reports, sentNow) {
    var refused = reports.filter(function (r) { return r.refused; });
    var waiting = reports.length - refused.length;
    banner.replaceChildren();
    if (waiting) {
      var p = document.createElement("p");
      p.className = "flash";
      p.textContent = waiting === 1 ? text("one", 1) : text("many", waiting);
      banner.append(p);
    } else if (sentNow) {
      var done = document.createElement("p");
      done.className = "flash success";
      done.textContent = text("sent");
      banner.append(done);
    }
    refused.forEach(function (r) {
      var p = document.createElement("p");
      p.className = "flash error";
      p.textContent = text("refused") + " " + r.refused;
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button secondary";
      discard.textContent = text("discard");
      discard.addEventListener("click", function () {
        store("readwrite", function (s) { s.delete(r.key); }).then(refresh);
      });
      p.append(" ", discard);
      banner.append(p);
    });
    banner.hidden = banner.childElementCount === 0;
  }
  function refresh(sentNow) { return mine().then(function (reports) { show(reports, sentNow); }); }

  function sendOne(report) {
    var data = new FormData();
    report.fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    report.photos.forEach(function (p) { data.append("photos", p.blob, p.name); });
    return fetch(report.url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" }
    }).then(function (response) {
      if (response.ok) return store("readwrite", function (s) { s.delete(report.key); }).then(function () { return true; });
      if (response.status === 400 || response.status === 404 || response.status === 413) {
        // refused for good: keep it, say why, let the person discard it
        return response.json().catch(function () { return {}; }).then(function (body) {
          report.refused = ((body.errors || []).map(function (e) { return e.message; }).join(" ")) || response.statusText;
          return store("readwrite", function (s) { s.put(report); }).then(function () { return false; });
        });
      }
      return false;  // signed out, rate limited or a server error: try again later
    }, function () { return false; });  // still no connection
  }
  function flush() {
    if (sending || navigator.onLine === false) return Promise.resolve();
    sending = true;
    return mine().then(function (reports) {
      var sent = 0;
      return reports.filter(function (r) { return !r.refused; }).reduce(function (chain, report) {
        return chain.then(function () { return sendOne(report); }).then(function (ok) { if (ok) sent += 1; });
      }, Promise.resolve()).then(function () { return sent; });
    }).then(function (sent) { return refresh(sent > 0); })
      .catch(function () { /* storage unavailable: nothing to send */ })
      .then(function () { sending = false; });
  }

  window.walkappOutbox = {
    /* Keep a report: url, fields as [name, value] pairs (client_key among them), photos as Files. */
    add: function (url, fields, files) {
      var key = (fields.filter(function (pair) { return pair[0] === "client_key"; })[0] || [])[1];
      var report = { key: key, user: user, url: url, fields: fields, savedAt: Date.now(),
                     photos: files.map(function (f) { return { name: f.name, blob: f }; }) };
      return store("readwrite", function (s) { s.put(report); }).then(function () { return refresh(false); });
    },
    flush: flush
  };
  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  flush();
})();
