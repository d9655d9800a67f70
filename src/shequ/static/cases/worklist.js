/* Worklist: "all on this page" selects every case for a bulk action. */
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) {
    return;
  }
  all.addEventListener("change", function () {
    document.querySelectorAll('#cases input[name="numbers"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
