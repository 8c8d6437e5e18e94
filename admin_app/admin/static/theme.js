// The theme, set before the first paint: this script is loaded (not deferred) in <head>, and
// the server writes the user's choice on its tag (data-theme: light, dark or system). "system"
// follows the browser's prefers-color-scheme, also when it changes while the page is open.
// Tabler styles both themes by the <html data-bs-theme> attribute. No inline script: the
// Content-Security-Policy allows scripts from this site only.
(function () {
  var script = document.currentScript;
  var chosen = (script && script.getAttribute("data-theme")) || "system";
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function apply() {
    var theme = chosen === "system" ? (media && media.matches ? "dark" : "light") : chosen;
    document.documentElement.setAttribute("data-bs-theme", theme);
  }
  apply();
  if (chosen === "system" && media && media.addEventListener) {
    media.addEventListener("change", apply);
  }
})();
