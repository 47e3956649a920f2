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
  function sortable(table) {
    table.querySelectorAll("thead th").forEach(function (heading, index) {
      // A button in each heading, so a screen reader says that the heading sorts the table.
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (heading.firstChild) { button.appendChild(heading.firstChild); }
      heading.appendChild(button);
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
    });
  }
  // The session ends after a while unused: say so 2 minutes before, and offer to stay signed in
  // (another tab's use extends it too, so the server is asked first). What is typed after it
  // ended is kept by the server when the form is saved, and comes back after signing in again.
  function sessionWarning(box) {
    var text = box.querySelector("span"), button = box.querySelector("button");
    var timers = [];
    function left(then) {
      fetch("/api/session", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { seconds: 0 }; })
        .then(function (body) { then(body.seconds || 0); })
        .catch(function () { then(null); });
    }
    function ended() {
      box.hidden = false;
      button.hidden = true;
      text.textContent = "Your session has ended. Nothing you type is lost: press Save, " +
        "sign in again, and the form comes back as you left it.";
    }
    function warn(seconds) {
      box.hidden = false;
      button.hidden = false;
      var minutes = Math.max(1, Math.round(seconds / 60));
      text.textContent = "Your session ends in " + minutes + " minute" +
        (minutes === 1 ? "" : "s") + " unless you stay signed in.";
    }
    function schedule(seconds) {
      timers.forEach(clearTimeout);
      timers = [];
      box.hidden = true;
      timers.push(setTimeout(function () {
        left(function (now) {
          if (now === null || now <= 130) { warn(now === null ? 120 : now); } else { schedule(now); }
        });
      }, Math.max(0, seconds - 120) * 1000));
      timers.push(setTimeout(function () {
        left(function (now) { if (now === null || now <= 0) { ended(); } else { schedule(now); } });
      }, seconds * 1000 + 1000));
    }
    button.addEventListener("click", function () {
      fetch("/api/session", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": box.dataset.csrf }
      })
        .then(function (r) { return r.ok ? r.json() : { seconds: 0 }; })
        .then(function (body) { if (body.seconds > 0) { schedule(body.seconds); } else { ended(); } })
        .catch(function () { text.textContent = "flsdb could not be reached; try again."; });
    });
    schedule(parseInt(box.dataset.seconds, 10) || 0);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("session-warning");
    if (box) { sessionWarning(box); }
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
