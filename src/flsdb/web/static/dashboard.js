// flsdb dashboards: each chart's specification is fetched and drawn when the chart comes into
// view (the page itself carries tables, not chart data); every chart's data is also a table.
"use strict";
(function () {
  function draw(element) {
    if (element.dataset.drawn) { return; }
    element.dataset.drawn = "1";
    fetch(element.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (spec) {
        // The interpreter evaluates Vega's expressions without eval: the CSP stays strict.
        return window.vegaEmbed(element, spec, {
          actions: false, renderer: "svg", ast: true, expr: window.vega.expressionInterpreter
        });
      })
      .then(function () { element.classList.add("drawn"); })
      .catch(function () {
        element.textContent = "The chart could not be drawn; its data is in the table below.";
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof window.vegaEmbed !== "function") { return; }
    var charts = document.querySelectorAll(".vega[data-src]");
    if (!("IntersectionObserver" in window)) { charts.forEach(draw); return; }
    var watcher = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { watcher.unobserve(entry.target); draw(entry.target); }
      });
    }, { rootMargin: "300px 0px" });
    charts.forEach(function (element) { watcher.observe(element); });
  });
})();
