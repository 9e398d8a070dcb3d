/* Staff console: small progressive enhancements; every page also works without them.
   A static file because the Content-Security-Policy forbids inline scripts. */
(function () {
  "use strict";

  // Confirmation for destructive actions: data-confirm on the form or on the button pressed.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);

  // New role: show only the permissions of the chosen kind (the server checks it in any case).
  var kind = document.getElementById("f-kind");
  if (kind) {
    var showKind = function () {
      document.querySelectorAll(".perm-table tr[data-kind]").forEach(function (row) {
        var other = row.getAttribute("data-kind") !== kind.value;
        row.hidden = other;
        row.querySelectorAll("input").forEach(function (box) { box.disabled = other; });
      });
    };
    kind.addEventListener("change", showKind);
    showKind();
  }

  // Copy a one-time secret (an API token) from its read-only field.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    field.select();
    var done = function () { button.textContent = "已复制"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  });
}());
