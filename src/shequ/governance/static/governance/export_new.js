// The export request form: show only the chosen dataset's fields (all are shown without JS).
(function () {
  "use strict";
  var select = document.getElementById("id_dataset");
  if (!select) return;
  function update() {
    document.querySelectorAll("[data-dataset]").forEach(function (group) {
      group.hidden = group.getAttribute("data-dataset") !== select.value;
    });
  }
  select.addEventListener("change", update);
  update();
})();
