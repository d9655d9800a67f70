/* Live coverage on the campaign page: the table is refreshed from the coverage API. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("coverage-live-data").textContent);
  var table = document.getElementById("coverage");
  if (!table) return;

  function refresh() {
    return fetch(config.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        body.rounds.forEach(function (r) {
          var row = table.querySelector("tr[data-round='" + r.round + "']");
          if (!row) return;
          row.querySelectorAll("[data-k]").forEach(function (cell) {
            var key = cell.dataset.k;
            if (key === "visited") cell.textContent = r.visited;
            else if (key in r) cell.textContent = r[key];
          });
        });
        table.dataset.refreshedAt = String(Date.now());
      })
      .catch(function () { /* keep the figures shown; try again later */ });
  }

  window.setInterval(refresh, 15000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
})();
