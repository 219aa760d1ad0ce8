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

// `ticking`: a box was just ticked, so the scope follows it. Not on every htmx swap: a background poll settling
// (the notifications badge) would put back "ticked rows" after the user chose "everyone the filter finds".
function bulkSync(ticking = false) {
  const scope = document.getElementById("bulk-scope");
  if (!scope) return;
  const ticked = [...bulkRows()].filter((box) => box.checked).length;
  const option = scope.querySelector('option[value="selected"]');
  option.dataset.label ??= option.textContent;
  option.textContent = `${option.dataset.label} (${ticked})`;
  if (ticked && ticking) scope.value = "selected";
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
  if (target.id === "bulk-page" || target.matches('input[name="ids"][form="bulk-form"]')) bulkSync(true);
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

// What templates would otherwise say inline, which the content security policy refuses (crm/settings/base.py):
// a width from the server (progress bars: data-crm-width="42"), set through the CSSOM, which CSP allows.
// Set as each piece of the page arrives, before it is first drawn, so a bar htmx replaces does not grow from 0.
function crmWidths(root) {
  if (root.matches?.("[data-crm-width]")) root.style.width = `${root.dataset.crmWidth}%`;
  root.querySelectorAll?.("[data-crm-width]").forEach((el) => { el.style.width = `${el.dataset.crmWidth}%`; });
}
document.addEventListener("htmx:load", (event) => crmWidths(event.target));
crmWidths(document);
document.addEventListener("DOMContentLoaded", () => crmWidths(document));

// A "Go back" button (data-crm-back), a select that sends its form when changed (data-crm-submit-on-change: the
// language switch), and a form that asks first (data-crm-confirm="Delete this segment?").
document.addEventListener("click", (event) => {
  if (!event.target.closest("[data-crm-back]")) return;
  event.preventDefault();
  history.back();
});
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-crm-submit-on-change]")) event.target.form.submit();
});
document.addEventListener("submit", (event) => {
  const question = event.target.dataset?.crmConfirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// The notification badge is refreshed every minute, but not while its menu is open (it would close under the
// reader); htmx's own trigger filter would need eval, which the policy refuses.
setInterval(() => {
  const box = document.getElementById("notifications");
  if (box && window.htmx && !document.querySelector("#notifications-menu.show")) htmx.trigger(box, "crm-poll");
}, 60_000);
