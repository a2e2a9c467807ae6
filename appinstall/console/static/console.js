// The console's shared script: same-origin only (the page's Content-Security-Policy allows no inline script).
// Times are shown in the reader's zone; forms marked data-confirm ask first; consoleFetch sends the CSRF token.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// fetch() for the console's own JSON endpoints: same origin, the session cookie, and the CSRF token header.
function consoleFetch(url, options = {}) {
  const headers = Object.assign({ "X-CSRF-Token": csrfToken() }, options.headers || {});
  return fetch(url, Object.assign({}, options, { headers, credentials: "same-origin" }));
}
window.consoleFetch = consoleFetch;

function showTimes(root) {
  for (const element of root.querySelectorAll("time[data-ms]")) {
    const ms = Number(element.dataset.ms);
    if (!Number.isFinite(ms) || element.dataset.shown) continue;
    const moment = new Date(ms);
    element.dateTime = moment.toISOString();
    // With its zone: the filters' times are UTC, and a reader should see which zone a time is in.
    element.textContent = moment.toLocaleString(undefined, { timeZoneName: "short" });
    element.title = moment.toISOString();
    element.dataset.shown = "1";
  }
}
window.showTimes = showTimes;

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// An answer to a form that shows something once (a new key, a new secret) names the page's own address: the
// address bar goes there, so a reload is a plain GET of that page, not the form sent again.
function showCanonicalAddress() {
  // Replaced even when the address is the same: the new entry is a GET's, without the form's data.
  const canonical = document.querySelector("[data-canonical-url]");
  if (canonical) window.history.replaceState(null, "", canonical.dataset.canonicalUrl);
}

document.addEventListener("DOMContentLoaded", () => {
  showTimes(document);
  showCanonicalAddress();
});
