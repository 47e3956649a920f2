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
  function drawCharts() {
    if (typeof window.vegaEmbed !== "function") { return; }
    document.querySelectorAll(".vega[data-spec]").forEach(function (element) {
      var source = document.getElementById(element.dataset.spec);
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      // The interpreter evaluates Vega's expressions without eval: the CSP stays strict.
      window.vegaEmbed(element, spec, {
        actions: false, renderer: "svg", ast: true, expr: window.vega.expressionInterpreter
      }).catch(function () { element.hidden = true; });
    });
  }
  function sortable(table) {
    table.querySelectorAll("thead th").forEach(function (heading, index) {
      heading.tabIndex = 0;
      heading.setAttribute("aria-sort", "none");
      function sort() {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var down = heading.getAttribute("aria-sort") !== "descending";
        rows.sort(function (a, b) {
          var x = a.cells[index].dataset.sort, y = b.cells[index].dataset.sort;
          var nx = parseFloat(x), ny = parseFloat(y);
          var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
          return down ? -order : order;
        });
        table.querySelectorAll("thead th").forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        heading.setAttribute("aria-sort", down ? "descending" : "ascending");
        rows.forEach(function (row) { body.appendChild(row); });
      }
      heading.addEventListener("click", sort);
      heading.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    document.querySelectorAll("table.sortable").forEach(sortable);
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
