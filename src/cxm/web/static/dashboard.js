// cxm dashboard: progressive enhancements only; every page works without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A language menu submits itself on change (its button stays for keyboard and no-JS use).
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // Forms marked data-confirm ask once more before they are sent.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // Printable report: a button that opens the print dialog.
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
