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

// The branding page's live preview: the colours and the name follow the form as the admin types.
// Only a complete #RRGGBB reaches the preview; the server checks again when the change is saved.
document.addEventListener("DOMContentLoaded", function () {
  var preview = document.getElementById("app-preview");
  if (!preview) return;
  [["primary_color", "--preview-brand"], ["secondary_color", "--preview-brand-2"]].forEach(function (pair) {
    var input = document.getElementById(pair[0]);
    if (!input) return;
    input.addEventListener("input", function () {
      if (/^#[0-9A-Fa-f]{6}$/.test(input.value.trim())) preview.style.setProperty(pair[1], input.value.trim());
    });
  });
  var name = document.getElementById("display_name"), shown = document.getElementById("preview-name");
  if (name && shown) name.addEventListener("input", function () { shown.textContent = name.value; });
});
