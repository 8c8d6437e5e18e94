// A job's page: the bar follows the job's row each second, and the page reloads once it ends
// (to show the result, Undo and the buttons that fit). Without script the page shows where
// the job was when it loaded.
(function () {
  "use strict";
  var card = document.getElementById("job");
  var url = card && card.getAttribute("data-progress-url");
  if (!url) {
    return;
  }
  var bar = document.getElementById("job-bar");
  var done = document.getElementById("job-done");
  var left = document.getElementById("job-left");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) {
          return;
        }
        var percent = data.total ? Math.min(100, (100 * data.done) / data.total) : 0;
        bar.style.width = percent.toFixed(1) + "%";
        bar.parentElement.setAttribute("aria-valuenow", percent.toFixed(1));
        done.textContent = data.text;
        left.textContent = data.left;
        if (["queued", "running", "cancelling"].indexOf(data.status) === -1) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
