// The campaign editor (templates/marketing/campaign_form.html). Without this every variant and part shows
// and the form still works; with it, only the variants in use show, the A/B settings only for two or more,
// the subject and HTML only for e-mail, and a change of channel rechecks the texts (the SMS counter).
function campaignFormSync() {
  const form = document.getElementById("campaign-form");
  if (!form) return;
  const count = parseInt(form.elements.variant_count.value || "1", 10);
  form.querySelectorAll("[data-variant-index]").forEach((el) => {
    el.hidden = parseInt(el.dataset.variantIndex, 10) > count;
  });
  form.querySelectorAll("[data-ab]").forEach((el) => { el.hidden = count < 2; });
  const sms = form.elements.channel.value === "sms";
  form.querySelectorAll("[data-email-only]").forEach((el) => { el.hidden = sms; });
}

// The texts already written are checked again: the SMS counter for the channel chosen.
function campaignRecheck() {
  document.querySelectorAll('#campaign-form [data-template-part="body"]').forEach((el) => {
    if (el.value.trim() && !el.closest("[hidden]")) htmx.trigger(el, "recheck");
  });
}

document.addEventListener("change", (event) => {
  if (!event.target.closest("#campaign-form")) return;
  campaignFormSync();
  if (event.target.name === "channel" || event.target.name === "variant_count") campaignRecheck();
});

function campaignFormInit() {
  campaignFormSync();
  const form = document.getElementById("campaign-form");
  if (form && form.elements.channel.value === "sms") campaignRecheck();
}
// Loaded with `defer`: it runs before DOMContentLoaded, and htmx has set the fields up by then.
document.addEventListener("DOMContentLoaded", campaignFormInit);
