// flsdb: a calendar beside every date typed as DD/MM/YYYY (inputs marked data-date). It draws
// its own month (English month names, weeks from Monday), so it never follows the browser's
// locale; typing the date works without it. Keyboard: Tab to a day, the arrow keys, Page Up and
// Page Down, Home and End move, Enter chooses, Escape closes.
"use strict";
(function () {
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  var DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function read(text) {
    var uk = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text.trim());
    var iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
    var d = uk ? new Date(+uk[3], +uk[2] - 1, +uk[1]) : iso ? new Date(+iso[1], +iso[2] - 1, +iso[3]) : null;
    return d && !isNaN(d.getTime()) ? d : null;
  }
  function attach(input) {
    var button = document.createElement("button");
    var label = input.closest("label") || document.querySelector('label[for="' + input.id + '"]');
    var name = label ? label.textContent.trim() : "the date";
    button.type = "button";
    button.className = "calendar-button";
    button.textContent = "Calendar";
    button.setAttribute("aria-label", "Choose " + name + " from a calendar");
    button.setAttribute("aria-expanded", "false");
    var panel = document.createElement("div");
    panel.className = "calendar";
    panel.hidden = true;
    panel.setAttribute("role", "group");
    panel.setAttribute("aria-label", "Calendar for " + name);
    // Outside a label that wraps the input, so the input's name stays the label's words.
    var wrapper = input.closest("label");
    var holder = document.createElement("span");
    holder.className = "calendar-holder";
    holder.appendChild(button);
    (wrapper || input).insertAdjacentElement("afterend", holder);
    holder.appendChild(panel);
    var shown = null;
    function close(focus) {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
      if (focus) { button.focus(); }
    }
    function draw(month) {
      shown = new Date(month.getFullYear(), month.getMonth(), 1);
      var chosen = read(input.value);
      var today = new Date();
      panel.textContent = "";
      var head = document.createElement("div");
      head.className = "calendar-head";
      var back = document.createElement("button");
      back.type = "button"; back.textContent = "‹"; back.setAttribute("aria-label", "Previous month");
      var next = document.createElement("button");
      next.type = "button"; next.textContent = "›"; next.setAttribute("aria-label", "Next month");
      var title = document.createElement("span");
      title.setAttribute("aria-live", "polite");
      title.textContent = MONTHS[shown.getMonth()] + " " + shown.getFullYear();
      back.addEventListener("click", function () { draw(new Date(shown.getFullYear(), shown.getMonth() - 1, 1)); back.focus(); });
      next.addEventListener("click", function () { draw(new Date(shown.getFullYear(), shown.getMonth() + 1, 1)); next.focus(); });
      head.appendChild(back); head.appendChild(title); head.appendChild(next);
      panel.appendChild(head);
      var grid = document.createElement("div");
      grid.className = "calendar-grid";
      DAYS.forEach(function (d) {
        var cell = document.createElement("span"); cell.textContent = d; cell.setAttribute("aria-hidden", "true");
        grid.appendChild(cell);
      });
      var offset = (shown.getDay() + 6) % 7;
      for (var i = 0; i < offset; i += 1) { grid.appendChild(document.createElement("span")); }
      var days = new Date(shown.getFullYear(), shown.getMonth() + 1, 0).getDate();
      for (var day = 1; day <= days; day += 1) {
        var pick = document.createElement("button");
        pick.type = "button";
        pick.textContent = String(day);
        pick.dataset.day = String(day);
        pick.setAttribute("aria-label", day + " " + MONTHS[shown.getMonth()] + " " + shown.getFullYear());
        if (chosen && chosen.getFullYear() === shown.getFullYear() && chosen.getMonth() === shown.getMonth() && chosen.getDate() === day) {
          pick.setAttribute("aria-pressed", "true");
        }
        if (today.getFullYear() === shown.getFullYear() && today.getMonth() === shown.getMonth() && today.getDate() === day) {
          pick.className = "today";
        }
        pick.addEventListener("click", function (event) {
          var d = +event.currentTarget.dataset.day;
          input.value = two(d) + "/" + two(shown.getMonth() + 1) + "/" + shown.getFullYear();
          input.dispatchEvent(new Event("change", { bubbles: true }));
          close(false);
          input.focus();
        });
        grid.appendChild(pick);
      }
      panel.appendChild(grid);
      // One day in the Tab order (the chosen one, else today, else the 1st): the arrows move.
      var dayButtons = grid.querySelectorAll("button");
      var current = grid.querySelector('[aria-pressed="true"]') || grid.querySelector(".today") || dayButtons[0];
      dayButtons.forEach(function (b) { b.tabIndex = b === current ? 0 : -1; });
    }
    function focusDay(target) {
      panel.querySelectorAll(".calendar-grid button").forEach(function (b) { b.tabIndex = b === target ? 0 : -1; });
      target.focus();
    }
    button.addEventListener("click", function () {
      if (!panel.hidden) { close(true); return; }
      draw(read(input.value) || new Date());
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      var target = panel.querySelector('[aria-pressed="true"]') || panel.querySelector(".today") || panel.querySelector(".calendar-grid button");
      if (target) { target.focus(); }
    });
    // Keys as in a date grid (WAI-ARIA's date picker): arrows move a day or a week, Page Up and
    // Page Down a month, Home and End to the week's ends; Enter or Space chooses (a button).
    var MOVES = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(true); return; }
      var from = event.target && event.target.dataset ? +event.target.dataset.day : 0;
      if (!from) { return; }
      var day = new Date(shown.getFullYear(), shown.getMonth(), from);
      if (event.key in MOVES) { day.setDate(from + MOVES[event.key]); }
      else if (event.key === "PageUp") { day = new Date(shown.getFullYear(), shown.getMonth() - 1, Math.min(from, 28)); }
      else if (event.key === "PageDown") { day = new Date(shown.getFullYear(), shown.getMonth() + 1, Math.min(from, 28)); }
      else if (event.key === "Home") { day.setDate(from - (day.getDay() + 6) % 7); }
      else if (event.key === "End") { day.setDate(from + 6 - (day.getDay() + 6) % 7); }
      else { return; }
      event.preventDefault();
      if (day.getMonth() !== shown.getMonth() || day.getFullYear() !== shown.getFullYear()) { draw(day); }
      var target = panel.querySelector('.calendar-grid button[data-day="' + day.getDate() + '"]');
      if (target) { focusDay(target); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-date]").forEach(attach);
  });
})();
