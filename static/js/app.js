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

// Time-zone pickers (partials/zone_field.html): a search box that narrows
// the list, and on a fresh form the browser's zone. Without JavaScript the
// plain <select> and its label still work.
(function () {
  var browserZone = null;
  try { browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* keep the server's pick */ }
  var norm = function (s) { return s.toLowerCase().replace(/[\/_\s-]+/g, " ").trim(); };
  document.querySelectorAll("select[data-zone-search]").forEach(function (select) {
    var all = Array.prototype.slice.call(select.options);
    if (browserZone && select.hasAttribute("data-zone-prefill")) {
      if (all.some(function (o) { return o.value === browserZone; })) select.value = browserZone;
    }
    var search = document.createElement("input");
    search.type = "search";
    search.className = "zone-search";
    search.placeholder = "Search zones, e.g. Berlin";
    search.autocomplete = "off";
    search.setAttribute("aria-label", "Search time zones");
    search.setAttribute("aria-controls", select.id);
    select.parentNode.insertBefore(search, select);
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") e.preventDefault();
    });
    search.addEventListener("input", function () {
      var words = norm(search.value).split(" ");
      var matches = all.filter(function (o) {
        var name = norm(o.value);
        return words.every(function (w) { return name.indexOf(w) !== -1; });
      });
      if (matches.length === 0) {
        search.setAttribute("aria-invalid", "true");
        return;
      }
      search.removeAttribute("aria-invalid");
      var current = select.value;
      while (select.options.length) select.remove(0);
      matches.forEach(function (o) { select.add(o); });
      select.value = matches.some(function (o) { return o.value === current; }) ? current : matches[0].value;
    });
  });
})();
