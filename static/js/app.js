// Colloquy: small enhancements; every page works without JavaScript.
document.addEventListener("htmx:responseError", function (e) {
  var target = e.detail.target;
  if (target) {
    target.innerHTML = '<p class="flash flash-error">The search failed. Please try again.</p>';
  }
});

// Tell the server the browser's time zone once, so times on pages are local.
(function () {
  if (document.cookie.indexOf("colloquy_tz=") !== -1) return;
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!tz) return;
    document.cookie = "colloquy_tz=" + encodeURIComponent(tz) + "; path=/; max-age=31536000; samesite=lax";
  } catch (e) { /* old browsers: times stay in UTC */ }
})();
