// flsdb: on a narrow screen the main menu folds behind a "Menu" button. Without this script the
// menu is shown whole, one item a line.
"use strict";
(function () {
  document.documentElement.classList.add("js");
  function ready() {
    var button = document.querySelector(".menu-button");
    var menu = document.getElementById("main-menu");
    if (!button || !menu) { return; }
    menu.dataset.collapsed = "true";
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", open ? "false" : "true");
      menu.dataset.collapsed = open ? "true" : "false";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
