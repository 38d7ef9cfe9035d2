// Colloquy: small enhancements; every page works without JavaScript.
document.addEventListener("htmx:responseError", function (e) {
  var target = e.detail.target;
  if (target) {
    target.innerHTML = '<p class="flash flash-error">The search failed. Please try again.</p>';
  }
});
