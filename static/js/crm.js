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
