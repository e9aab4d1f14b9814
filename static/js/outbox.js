/* The phone's outbox: reports that could not be sent for want of a connection wait here
   (IndexedDB, photos included) and are sent when the connection is back: at once on the
   "online" event, on every page load, and then after 30 s, doubling up to 10 minutes while
   sending keeps failing. Each report carries its client key, so a retry whose first answer
   was lost makes no second item; one tab at a time sends (Web Locks, where the browser has
   them). Only the signed-in person's own reports are sent, with the CSRF token of the page
   the outbox runs on.
   The banner (#outbox in the base layout) says how many wait, and offers to discard a
   report the server refused for good (e.g. its walk has ended), naming it (category, time,
   first words). It is redrawn only when what it says changes, so screen readers hear each
   news once and focus stays put. IndexedDB is the one source of truth: every tab draws its
   banner from it, and a tab that changes it tells the others (BroadcastChannel), so no tab
   keeps saying "waits" after another has sent it. When a report is queued the browser is
   asked to keep the storage (navigator.storage.persist()); when it will not promise to, the
   banner says the phone may delete waiting reports if it runs short of space. A 429 ("try
   later") from the server counts as no connection: the report stays queued. */
(function () {
  "use strict";
  var banner = document.getElementById("outbox");
  if (!banner || !window.indexedDB) return;
  var user = banner.dataset.user;
  var csrf = banner.dataset.csrf;
  var text = function (key, n) { return (banner.dataset[key] || "").replace("{n}", n); };
  var sending = false, shown = "", failures = 0, timer = null;
  var channel = window.BroadcastChannel ? new BroadcastChannel("walkapp-outbox") : null;
  function tellOtherTabs(sentNow) { if (channel) channel.postMessage({ user: user, sent: !!sentNow }); }
  if (channel) channel.onmessage = function (e) { if (e.data && e.data.user === user) refresh(e.data.sent); };

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
        var tx, request;
        try {
          tx = db.transaction("reports", mode);
          request = work(tx.objectStore("reports"));
        } catch (err) { db.close(); reject(err); return; }
        tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        // a full disk (QuotaExceededError) aborts the transaction without an error event
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error || new Error("aborted")); };
      });
    });
  }
  function mine() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).filter(function (r) { return r.user === user; });
    });
  }

  function flash(className, content) {
    var p = document.createElement("p");
    p.className = className;
    p.append(content);
    return p;
  }
  // "Belysning kl. 21:14 ”Trasig lampa vid …”": which report a message is about
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (all, k) { return values[k] == null ? all : values[k]; });
  }
  function reportName(r) {
    var label = r.label || {};
    var time = new Date(r.savedAt).toLocaleTimeString(document.documentElement.lang || undefined,
                                                       { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    var name = fill(text("name"), { category: label.category || "", time: time });
    var words = (label.text || "").trim().split(/\s+/).filter(Boolean);
    if (words.length) name += " " + fill(text("quote"), { text: words.slice(0, 6).join(" ") + (words.length > 6 ? " …" : "") });
    return name;
  }
  function protect() {
    if (!navigator.storage || !navigator.storage.persist) return Promise.resolve(true);
    return navigator.storage.persisted().then(function (yes) { return yes || navigator.storage.persist(); })
      .catch(function () { return false; });
  }
  function persisted() {
    if (!navigator.storage || !navigator.storage.persisted) return Promise.resolve(true);
    return navigator.storage.persisted().catch(function () { return false; });
  }
  function show(reports, sentNow, kept) {
    var refused = reports.filter(function (r) { return r.refused; });
    var waiting = reports.length - refused.length;
    var state = JSON.stringify([waiting, !waiting && sentNow, kept, refused.map(function (r) { return [r.key, r.refused]; })]);
    if (state === shown) return;
    shown = state;
    banner.replaceChildren();
    if (waiting) banner.append(flash("flash", waiting === 1 ? text("one", 1) : text("many", waiting)));
    else if (sentNow) banner.append(flash("flash success", text("sent")));
    if (waiting && !kept) banner.append(flash("flash info", text("unprotected")));
    document.dispatchEvent(new CustomEvent("walkapp:outbox", { detail: { waiting: waiting } }));
    refused.forEach(function (r) {
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button secondary";
      discard.textContent = text("discard");
      discard.addEventListener("click", function () {
        store("readwrite", function (s) { s.delete(r.key); })
          .then(function () { tellOtherTabs(false); return refresh(false); })
          .catch(function () { /* storage unavailable: it stays listed */ });
      });
      var p = flash("flash error", text("refused") + " " + reportName(r) + ": " + r.refused + " ");
      p.append(discard);
      banner.append(p);
    });
    banner.hidden = banner.childElementCount === 0;
  }
  function refresh(sentNow) {
    return Promise.all([mine(), persisted()]).then(function (both) { show(both[0], sentNow, both[1]); });
  }

  var TIMEOUT = 600000;  // a send that hangs on a weak connection is given up and tried later
  function timeoutSignal() {
    if (window.AbortSignal && AbortSignal.timeout) return AbortSignal.timeout(TIMEOUT);
    var controller = new AbortController();
    setTimeout(function () { controller.abort(); }, TIMEOUT);
    return controller.signal;
  }
  // "sent" (the server answered with the item, made now or before), "refused" (for good:
  // keep it, say why) or "later" (no connection, a captive portal, signed out, an expired
  // token, rate limited, a server error).
  function sendOne(report) {
    var data = new FormData();
    report.fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    report.photos.forEach(function (p) { data.append("photos", p.blob, p.name); });
    return fetch(report.url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-Walkapp-Outbox": "1", Accept: "application/json" },
      signal: timeoutSignal()
    }).then(function (response) {
      if ((response.status === 200 || response.status === 201) && !response.redirected) {
        return response.json().catch(function () { return {}; }).then(function (item) {
          if (!item || item.type !== "Feature" || !item.id) return "later";  // not our API answering
          return store("readwrite", function (s) { s.delete(report.key); }).then(function () { return "sent"; });
        });
      }
      if (response.status !== 400 && response.status !== 413) return "later";
      return response.json().catch(function () { return {}; }).then(function (body) {
        var errors = body.errors || [];
        if (errors.some(function (e) { return e.field === "csrf_token"; })) return "later";
        report.refused = errors.map(function (e) { return e.message; }).join(" ") ||
          response.statusText || "HTTP " + response.status;
        return store("readwrite", function (s) { s.put(report); }).then(function () { return "refused"; });
      });
    }, function () { return "later"; });
  }
  function sendAll() {
    return mine().then(function (reports) {
      var results = [];
      return reports.filter(function (r) { return !r.refused; }).reduce(function (chain, report) {
        return chain.then(function () { return sendOne(report); }).then(function (r) { results.push(r); });
      }, Promise.resolve()).then(function () { return results; });
    });
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(flush, Math.min(30000 * Math.pow(2, failures), 600000));
  }
  function flush() {
    if (sending) return Promise.resolve();
    if (navigator.onLine === false) {
      schedule();
      return refresh(false).catch(function () { /* storage unavailable */ });
    }
    sending = true;
    var work = function () { return sendAll(); };
    var locked = navigator.locks ?
      navigator.locks.request("walkapp-outbox", { ifAvailable: true }, function (lock) { return lock ? work() : []; }) :
      work();
    return Promise.resolve(locked).then(function (results) {
      failures = results.indexOf("later") >= 0 ? failures + 1 : 0;
      var sentNow = results.indexOf("sent") >= 0;
      if (sentNow || results.indexOf("refused") >= 0) tellOtherTabs(sentNow);
      return refresh(sentNow);
    }).catch(function () { /* storage unavailable: nothing to send */ })
      .then(function () { sending = false; schedule(); });
  }

  window.walkappOutbox = {
    /* Keep a report: url, fields as [name, value] pairs (client_key among them), photos as Files,
       label {category, text} to name it in messages. */
    add: function (url, fields, files, label) {
      var key = (fields.filter(function (pair) { return pair[0] === "client_key"; })[0] || [])[1];
      var report = { key: key, user: user, url: url, fields: fields, savedAt: Date.now(), label: label || {},
                     photos: files.map(function (f) { return { name: f.name, blob: f }; }) };
      return store("readwrite", function (s) { s.put(report); }).then(function () {
        failures = 0;  // a new report waits at most 30 s for its first try
        schedule();
        tellOtherTabs(false);
        return protect().then(function () { return refresh(false); });
      });
    },
    flush: flush
  };
  window.addEventListener("online", function () { failures = 0; flush(); });
  flush();
})();
