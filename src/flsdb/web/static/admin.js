// flsdb administration: a search box that narrows a list of FLS check boxes by name or code,
// and a count of those ticked. Without this file every FLS is listed and can be ticked.
"use strict";
(function () {
  function setUp(picker) {
    var find = picker.querySelector("[data-picker-find]");
    var count = picker.querySelector("[data-picker-count]");
    var choices = Array.prototype.slice.call(picker.querySelectorAll("label.choice"));
    picker.querySelectorAll(".picker-search").forEach(function (element) { element.hidden = false; });
    function show() {
      var words = find.value.trim().toLowerCase();
      var shown = 0, ticked = 0;
      choices.forEach(function (choice) {
        var box = choice.querySelector("input");
        var match = words === "" || choice.textContent.toLowerCase().indexOf(words) !== -1;
        // A ticked FLS stays in view, so nothing chosen is hidden.
        choice.hidden = !match && !box.checked;
        if (!choice.hidden) { shown += 1; }
        if (box.checked) { ticked += 1; }
      });
      count.textContent = ticked + " of " + choices.length + " ticked" +
        (words === "" ? "." : "; " + shown + " shown.");
    }
    find.addEventListener("input", show);
    picker.addEventListener("change", show);
    find.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
    show();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-picker]").forEach(setUp);
  });
})();
