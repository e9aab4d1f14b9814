/* On wide screens (a laptop) the menu is shown inline in the header, without the hamburger; on
   phones it stays a menu that opens. Without JavaScript the menu opens on a tap everywhere. */
(function () {
  "use strict";
  var menu = document.querySelector("details.menu");
  if (!menu || !window.matchMedia) return;
  var wide = window.matchMedia("(min-width: 75rem)");
  function apply() {
    menu.classList.toggle("inline", wide.matches);
    menu.open = wide.matches;
  }
  wide.addEventListener("change", apply);
  apply();
})();
