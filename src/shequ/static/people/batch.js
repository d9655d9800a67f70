// Batch page: poll the batch's status (GET /api/v1/batches/<id>/) until it is finished and
// move the progress bar. No personal data travels: status, progress and counts only.
(function () {
  "use strict";
  var box = document.getElementById("batch-progress");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var label = document.getElementById("batch-status");
  var finished = ["done", "refused", "failed"];
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        bar.value = data.progress;
        bar.textContent = data.progress + "%";
        if (label) label.textContent = data.status_display + " · " + data.progress + "%";
        if (finished.indexOf(data.status) >= 0) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  if (finished.indexOf(box.getAttribute("data-status")) < 0) poll();
})();
