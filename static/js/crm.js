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
