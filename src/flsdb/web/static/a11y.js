// flsdb: keyboard and screen-reader help (WCAG 2.2 AA); every page works without this file.
// - After a failed save focus moves to the error summary ([data-focus]), so it is read out
//   first, and each of its links moves focus to the field it names (not only scrolls to it).
// - A box that scrolls sideways (a wide table on a phone) can be reached with the keyboard and
//   scrolled with the arrow keys: it gets tabindex="0" while it is wider than its room.
"use strict";
(function () {
  var BOXES = "main table, main .wide, main .scroll, main figure, main .picker-list";

  function scrollables() {
    document.querySelectorAll(BOXES).forEach(function (box) {
      var style = window.getComputedStyle(box);
      var scrolls = /(auto|scroll)/.test(style.overflowX + style.overflowY) &&
        (box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1);
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.dataset.scrolls = "added";
      } else if (!scrolls && box.dataset.scrolls === "added") {
        box.removeAttribute("tabindex");
        delete box.dataset.scrolls;
      }
    });
  }

  function summary() {
    var box = document.querySelector("[data-focus]");
    if (!box) { return; }
    box.focus();
    box.querySelectorAll('a[href^="#"]').forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) { return; }
        var control = target.matches("input, select, textarea") ? target :
          target.querySelector("input, select, textarea");
        if (!control) { return; }
        event.preventDefault();
        var field = control.closest(".field") || control;
        field.scrollIntoView({ block: "start" });
        control.focus({ preventScroll: true });
      });
    });
  }

  function ready() {
    summary();
    scrollables();
    var waiting = false;
    function later() {
      if (waiting) { return; }
      waiting = true;
      window.requestAnimationFrame(function () { waiting = false; scrollables(); });
    }
    window.addEventListener("resize", later);
    document.addEventListener("toggle", later, true);
    var main = document.getElementById("main");
    if (main && window.ResizeObserver) { new ResizeObserver(later).observe(main); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
