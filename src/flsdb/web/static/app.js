// flsdb: small progressive enhancements; every page works without this file.
"use strict";
(function () {
  function update(form) {
    form.querySelectorAll("[data-shown-when]").forEach(function (field) {
      var control = form.querySelector('[name="' + field.dataset.shownWhen + '"]');
      if (!control) { return; }
      var show = control.value === field.dataset.shownValue;
      var filled = Array.prototype.some.call(
        field.querySelectorAll("input, select"),
        function (input) {
          return input.type === "checkbox" ? input.checked : input.value !== "";
        }
      );
      // A field holding a value stays visible, so nothing is hidden that will be saved.
      field.hidden = !show && !filled;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.record").forEach(function (form) {
      update(form);
      form.addEventListener("change", function () { update(form); });
    });
    document.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.dataset.confirm)) { event.preventDefault(); }
      });
    });
  });
})();
