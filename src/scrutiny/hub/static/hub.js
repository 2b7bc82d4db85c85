/* scrutiny hub: progressive enhancement only. Every page works without this file. */
(function () {
  "use strict";

  // Ask before destructive form posts (revoke, delete, withdraw).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // Search filters apply as soon as a select changes.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });

  // A copy button next to secrets shown once (new API tokens).
  document.querySelectorAll("[data-copy]").forEach(function (el) {
    if (!navigator.clipboard) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Copy";
    button.className = "copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        button.textContent = "Copied";
      });
    });
    el.insertAdjacentElement("afterend", button);
  });

  // Refuse files over the hub's limit before uploading them.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
    input.addEventListener("change", function () {
      var big = Array.prototype.filter.call(input.files, function (f) {
        return f.size > limit;
      });
      input.setCustomValidity(
        big.length ? big[0].name + " is larger than the upload limit of " + limit + " bytes." : ""
      );
      input.reportValidity();
    });
  });
})();
