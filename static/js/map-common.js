/* What the maps share (inbox.js, observation-map.js, pins.js): building DOM nodes with
   textContent only (descriptions and names are user input), and the popup of one item.
   Load it before them. */
window.walkappMap = (function () {
  "use strict";
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }
  function clip(text, length) {
    return text.length > length ? text.slice(0, length - 3) + "…" : text;
  }
  /* item: { title, state, url, thumb, description, open }. With `open` (the words of a link under
     the popup) the title is plain text; without it the title itself links to `url`. */
  function popup(item) {
    var box = el("div", "popup");
    if (item.thumb) {
      var img = el("img");
      img.src = item.thumb; img.alt = ""; img.width = 160;
      box.append(img);
    }
    var title = el(item.url && !item.open ? "a" : "strong", null, item.title);
    if (item.url && !item.open) title.href = item.url;
    box.append(title);
    if (item.state) box.append(el("p", "muted", item.state));
    if (item.description) box.append(el("p", null, clip(item.description, 160)));
    if (item.url && item.open) {
      var link = el("a", null, item.open);
      link.href = item.url;
      box.append(link);
    }
    return box;
  }
  /* The popup of an observation feature from the JSON API; msg(key) reads the page's words. */
  function featurePopup(p, msg, title) {
    return popup({
      title: title || p.category_name, url: p.url, open: msg("open"),
      thumb: p.photos.length ? p.photos[0].thumb : null, description: p.description,
      state: p.status_name + (p.overdue ? " · " + msg("overdue") : ""),
    });
  }
  return { el: el, popup: popup, featurePopup: featurePopup };
})();
