"""Campaign sending: exactly once, or reported.

- freeze.py: the rows, written before anything is sent (a campaign's frozen membership, an automation's
  occasion), with the control group and the A/B split drawn reproducibly (draws.py);
- batch.py: a worker's batch (claim, guardrails, render, hand over, record each answer);
- lifecycle.py: dispatching batches, pause/resume/cancel, progress, and the sweep of lost claims;
- guardrails.py: consent, address, frequency cap and SMS quiet hours, each a reason on the skipped row.
"""

from marketing.services.sending.batch import BatchResult, ChannelUnavailable, batch_pause, messages_send_batch
from marketing.services.sending.draws import control_held_out, variant_index
from marketing.services.sending.freeze import (
    audience_preview,
    campaign_schedule,
    campaign_start,
    campaigns_start_due,
    messages_prepare,
)
from marketing.services.sending.lifecycle import (
    campaign_cancel,
    campaign_dispatch,
    campaign_finish_if_done,
    campaign_pause,
    campaign_resume,
    lane_touch,
    messages_sweep,
    progress,
)
from marketing.services.sending.testing import message_send_test

__all__ = [
    "BatchResult",
    "ChannelUnavailable",
    "audience_preview",
    "batch_pause",
    "campaign_cancel",
    "campaign_dispatch",
    "campaign_finish_if_done",
    "campaign_pause",
    "campaign_resume",
    "campaign_schedule",
    "campaign_start",
    "campaigns_start_due",
    "control_held_out",
    "lane_touch",
    "message_send_test",
    "messages_prepare",
    "messages_send_batch",
    "messages_sweep",
    "progress",
    "variant_index",
]
