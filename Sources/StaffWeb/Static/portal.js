// The portal's only script, served as a file (the CSP allows no inline script). Forms marked
// data-once disable their button after the first submit, so a double click posts once; the server
// does not rely on it (each such form carries an idempotency key the API enforces).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = form.querySelector("button[data-once]");
  if (!button) return;
  if (form.dataset.sent === "1") { event.preventDefault(); return; }
  form.dataset.sent = "1";
  window.setTimeout(function () { button.disabled = true; }, 0);
});
