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
  // Slow panels (the 360 page's loyalty and churn risk) load after the page; their link works without JavaScript.
  // A panel still being computed on the server (data-pending) is asked again a little later.
  const fill = (panel, tries) => {
    fetch(panel.dataset.load, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        const fragment = new DOMParser().parseFromString(html, "text/html").body;
        const pending = fragment.querySelector("[data-pending]") !== null;
        panel.querySelector("[data-slot]")?.replaceChildren(...fragment.childNodes);
        if (pending && tries > 0) setTimeout(() => fill(panel, tries - 1), 1500);
      })
      .catch(() => {});
  };
  for (const panel of document.querySelectorAll("[data-load]")) fill(panel, 40);
  // Printable report: a button that opens the print dialog.
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
