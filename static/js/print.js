// Print buttons: <button data-print>. A file, not an onclick attribute, so the
// Content-Security-Policy can refuse every inline handler.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
