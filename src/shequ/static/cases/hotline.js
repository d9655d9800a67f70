/* Hotline console keys: "/" the caller's phone, Alt+D the description, Ctrl+Enter creates. */
(function () {
  "use strict";
  var phone = document.getElementById("id_phone");
  var text = document.getElementById("id_text");
  var intake = document.getElementById("intake");
  if (phone && !document.querySelector(".field-error")) {
    (document.getElementById("caller-cases") && text ? text : phone).focus();
  }
  document.addEventListener("keydown", function (e) {
    var typing = /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName);
    if (e.key === "/" && !typing && phone) {
      e.preventDefault();
      phone.focus();
    } else if (e.altKey && (e.key === "d" || e.key === "D") && text) {
      e.preventDefault();
      text.focus();
    } else if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && intake && intake.contains(document.activeElement)) {
      e.preventDefault();
      intake.requestSubmit();
    }
  });
})();
