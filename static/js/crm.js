// Pressing "/" anywhere (outside a field) puts the cursor in the top-bar lookup box, as on GitHub or Gmail.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
  const box = document.getElementById("lookup-box");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

// Bulk actions on the customer list (templates/customers/includes/bulk_bar.html). The form works without
// this; with it, a box ticks every row on the page, the "ticked rows" choice counts them, only the chosen
// action's field shows, and changing everyone the filter finds asks first. Delegated, so it survives htmx swaps.
const bulkRows = () => document.querySelectorAll('input[name="ids"][form="bulk-form"]');

function bulkSync() {
  const scope = document.getElementById("bulk-scope");
  if (!scope) return;
  const ticked = [...bulkRows()].filter((box) => box.checked).length;
  const option = scope.querySelector('option[value="selected"]');
  option.dataset.label ??= option.textContent;
  option.textContent = `${option.dataset.label} (${ticked})`;
  if (ticked) scope.value = "selected";
  const page = document.getElementById("bulk-page");
  if (page) page.checked = ticked > 0 && ticked === bulkRows().length;
}

function bulkFields() {
  const action = document.getElementById("bulk-action")?.value;
  document.querySelectorAll("[data-bulk-for]").forEach((el) => {
    el.hidden = !el.dataset.bulkFor.split(" ").includes(action);
  });
}

function bulkInit() {
  document.getElementById("bulk-page")?.removeAttribute("hidden");
  bulkFields();
  bulkSync();
}

document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.id === "bulk-page") bulkRows().forEach((box) => { box.checked = target.checked; });
  if (target.id === "bulk-page" || target.matches('input[name="ids"][form="bulk-form"]')) bulkSync();
  if (target.id === "bulk-action") bulkFields();
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.id !== "bulk-form" || form.elements.scope.value !== "all") return;
  if (!window.confirm(form.dataset.confirmAll)) event.preventDefault();
});
document.addEventListener("DOMContentLoaded", bulkInit);
document.addEventListener("htmx:afterSettle", bulkInit);
if (document.readyState !== "loading") bulkInit();

// The customer page's form area (customers/includes/form_panel.html): a form sent with htmx that comes back
// with its errors (status 400) replaces the panel, so what was typed and why it was refused both show.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 400 && event.detail.target.id === "quick-action-panel") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// A panel that has just arrived is scrolled into view with the cursor in its first field (or first error).
document.addEventListener("htmx:afterSettle", () => {
  const panel = document.querySelector("#quick-action #quick-action-panel");
  if (!panel || panel.dataset.shown) return;
  panel.dataset.shown = "1";
  panel.scrollIntoView({ block: "nearest" });
  const field = panel.querySelector(".is-invalid") || panel.querySelector("input:not([type=hidden]), select, textarea");
  if (field) field.focus({ preventScroll: true });
});
// Its close button empties the area instead of reloading the customer's page (the link is for no-JS).
document.addEventListener("click", (event) => {
  const close = event.target.closest("#quick-action [data-quick-action-close]");
  if (!close) return;
  event.preventDefault();
  document.getElementById("quick-action").replaceChildren();
});
