"""What a campaign or automation did and earned: counts from its message rows, and its recipients' purchases
in the attribution window against the control group's. Reads only; the statistics are marketing/stats.py.

The groups (as docs/contracts say, so like is compared with like):
- treatment: rows not held out and not skipped as the membership was frozen (sent, failed, unknown, still
  queued, and skipped later at the send, alike: what the campaign did to everyone it meant to reach, so a
  failed send or a cancel cannot flatter the result). A row skipped at the freeze has no variant; one skipped
  at the send (consent withdrawn since, the frequency cap, a cancel) keeps the variant it was given;
- control: held-out rows with no would-be skip reason (the guardrails were applied to them at the freeze too).

The attribution window of a row is `attribution_days` from its start: a treatment row's send (`sent_at`), or,
while it has none, and for every control row, the moment it was assigned: the campaign's start for a one-off
campaign, the row's creation (its occasion) for an automation. Revenue is what was paid less what was
refunded; a member converted if they made a purchase in the window that was not refunded in full.

Speed: one aggregate over the campaign's rows for the counts (grouped by variant, status and skip reason), and
one join of those rows to the purchases of the campaign's period (a range on the occurred_at index, then a hash
join on the member) grouped twice, by row and then by group and variant; no Python per row. That still reads
every row: seconds at 1,000,000 recipients. So the page reads a snapshot of these figures (ResultsSnapshot,
counted every 5 minutes by a beat job while they can change) and counts live only when there is none recent.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connections, transaction
from django.db.models import Count, Max
from django.utils import timezone

from crm.db_router import read_alias
from marketing import stats
from marketing.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignVariant,
    Coupon,
    CouponStatus,
    Message,
    MessageStatus,
    ResultsSnapshot,
)

S = MessageStatus
# Statuses a row reaches only after the provider took it, and those that say it was delivered or opened: a row
# counts as sent (delivered, opened, ...) by its status or, once its status moved on, by its timestamp.
AFTER_SEND = {S.SENT, S.DELIVERED, S.OPENED, S.CLICKED, S.BOUNCED, S.COMPLAINED, S.UNSUBSCRIBED}
AFTER_DELIVERY = {S.DELIVERED, S.OPENED, S.CLICKED, S.COMPLAINED, S.UNSUBSCRIBED}
BY_STATUS = {
    "held_out": S.HELD_OUT,
    "skipped": S.SKIPPED,
    "queued": S.QUEUED,
    "sending": S.SENDING,
    "failed": S.FAILED,
    "unknown": S.UNKNOWN,
    "bounced": S.BOUNCED,
    "complained": S.COMPLAINED,
}
# count name -> (the statuses that imply it, the timestamp column that records it)
BY_STATUS_OR_TIME = {
    "sent": (AFTER_SEND, "sent_at"),
    "delivered": (AFTER_DELIVERY, "delivered_at"),
    "opened": ({S.OPENED, S.CLICKED}, "opened_at"),
    "clicked": ({S.CLICKED}, "clicked_at"),
    "unsubscribed": ({S.UNSUBSCRIBED}, "unsubscribed_at"),
}
COUNT_NAMES = ["targeted", *BY_STATUS, *BY_STATUS_OR_TIME, "control_ineligible"]

# Per row, its purchases in its window; then per group and variant. `lo`/`hi` bound the whole campaign's
# windows, so Postgres reads only the period's purchases (the occurred_at index) and hashes them.
REVENUE_SQL = """
SELECT control, variant_id, count(*), count(*) FILTER (WHERE converted), sum(purchases),
       coalesce(sum(revenue), 0), coalesce(sum(revenue::float8 * revenue::float8), 0)
FROM (
    SELECT m.id, m.status = 'held_out' AS control, m.variant_id,
           count(*) FILTER (WHERE t.amount > t.refunded_amount) AS purchases,
           sum(t.amount - t.refunded_amount) AS revenue, bool_or(t.amount > t.refunded_amount) AS converted
    FROM marketing_message m
    JOIN interactions_transaction t ON t.customer_id = m.customer_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN m.status = 'held_out' THEN coalesce(%(anchor)s::timestamptz, m.created_at)
                    ELSE coalesce(m.sent_at, %(anchor)s::timestamptz, m.created_at) END AS since
    ) w
    WHERE m.campaign_id = %(campaign)s
      AND ((m.status = 'held_out' AND m.skip_reason = '')
           OR (m.status <> 'held_out' AND NOT (m.status = 'skipped' AND m.variant_id IS NULL)))
      AND t.occurred_at >= %(lo)s AND t.occurred_at < %(hi)s
      AND t.occurred_at >= w.since AND t.occurred_at < w.since + make_interval(days => %(days)s)
    GROUP BY m.id
) per_row
GROUP BY control, variant_id
"""


@dataclass(frozen=True)
class Figures:
    """One group's members and what they bought in their windows."""

    members: int = 0
    converters: int = 0
    purchases: int = 0
    revenue: Decimal = Decimal(0)
    revenue_squares: float = 0.0

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(
            self.members + other.members,
            self.converters + other.converters,
            self.purchases + other.purchases,
            self.revenue + other.revenue,
            self.revenue_squares + other.revenue_squares,
        )

    @property
    def conversion(self) -> float | None:
        return self.converters / self.members if self.members else None

    @property
    def revenue_per_member(self) -> Decimal | None:
        return (self.revenue / self.members).quantize(Decimal("0.01")) if self.members else None

    def group(self) -> stats.Group:
        return stats.Group.from_sums(
            members=self.members,
            converters=self.converters,
            total=float(self.revenue),
            total_squares=self.revenue_squares,
        )


@dataclass(frozen=True)
class VariantResult:
    variant: CampaignVariant
    figures: Figures
    comparison: stats.Comparison | None = None  # against the best, when there is a test


@dataclass
class Results:
    campaign: Campaign
    counts: dict[str, int]
    skipped: dict[str, int]  # by SkipReason value, only those that occur
    coupons_redeemed: int
    treatment: Figures
    control: Figures
    window_closes: datetime | None
    computed_at: datetime | None = None
    revenue: stats.Lift | None = None
    conversion: stats.Lift | None = None
    srm: stats.Srm | None = None
    verdict: stats.Verdict | None = None
    variants: list[VariantResult] = field(default_factory=list)
    ab: stats.AbChoice | None = None
    variant_srm: stats.Srm | None = None

    @property
    def has_control(self) -> bool:
        return self.campaign.control_percent > 0

    @property
    def window_open(self) -> bool:
        return self.window_closes is not None and self.window_closes > timezone.now()


def _anchor(campaign: Campaign) -> datetime | None:
    """When a one-off campaign's rows were assigned; an automation's rows each have their own moment."""
    return campaign.started_at if campaign.kind == CampaignKind.ONE_OFF else None


def _groups(campaign: Campaign) -> list[dict]:
    """The rows counted by variant, status and skip reason (a few dozen groups), with their timestamps counted:
    one pass over the rows, and cheap per row (no expression per count)."""
    aggregates = {f"n_{column}": Count(column) for _statuses, column in BY_STATUS_OR_TIME.values()}
    rows = (
        Message.objects.filter(campaign=campaign)
        .order_by()
        .values("variant_id", "status", "skip_reason")
        .annotate(rows=Count("pk"), last_sent=Max("sent_at"), **aggregates)
    )
    return [row | {"last_sent": row["last_sent"].isoformat() if row["last_sent"] else None} for row in rows]


def _revenue(campaign: Campaign, *, last_sent: datetime | None) -> list[list]:
    anchor = _anchor(campaign)
    days = timedelta(days=campaign.attribution_days)
    # No row's window starts before the campaign's start (an automation's: its creation), nor ends after the
    # last send's (an automation's rows are made up to now).
    lo = anchor or campaign.created_at
    hi = max(filter(None, [last_sent, anchor])) + days if anchor else timezone.now() + days
    params = {"campaign": campaign.pk, "anchor": anchor, "lo": lo, "hi": hi, "days": campaign.attribution_days}
    alias = read_alias()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        # JIT compiling costs more than it saves here; the per-row step hashes up to every recipient.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(REVENUE_SQL, params)
        return [
            [control, variant_id, converters, int(purchases), str(revenue), float(squares)]
            for control, variant_id, _rows, converters, purchases, revenue, squares in cursor.fetchall()
        ]


def _coupons_redeemed(campaign: Campaign) -> int:
    if campaign.offer_id is None:
        return 0
    # Through the (offer, status) index: the offer's redeemed coupons, then their message rows by key.
    return Coupon.objects.filter(
        offer_id=campaign.offer_id, status=CouponStatus.REDEEMED, message__campaign=campaign
    ).count()


def results_figures(campaign: Campaign) -> dict:
    """The raw figures, JSON-able (so a snapshot can keep them): the rows by group, what each group bought in its
    windows, the coupons redeemed. Three aggregate queries whatever the number of recipients."""
    groups = _groups(campaign)
    sends = [datetime.fromisoformat(g["last_sent"]) for g in groups if g["last_sent"]]
    return {
        "groups": groups,
        "bought": _revenue(campaign, last_sent=max(sends) if sends else None),
        "coupons_redeemed": _coupons_redeemed(campaign),
    }


def campaign_results(campaign: Campaign) -> Results:
    """The results as of now."""
    return results_from(campaign, results_figures(campaign), computed_at=timezone.now())


@dataclass(frozen=True)
class Tally:
    """The raw figures added up: counts by name, the two groups, and what each variant's rows bought."""

    counts: dict[str, int]
    skipped: dict[str, int]
    treatment_by_variant: dict[int | None, int]
    bought: dict[tuple[bool, int | None], Figures]
    treatment: Figures
    control: Figures
    last_sent: str | None


def tally(figures: dict) -> Tally:
    """The groups and counts from the raw figures, without the statistics (no query)."""
    counts = dict.fromkeys(COUNT_NAMES, 0)
    skipped: dict[str, int] = {}
    treatment_by_variant: dict[int | None, int] = {}
    control_members, last_sent = 0, None
    for g in figures["groups"]:
        n, status, reason = g["rows"], g["status"], g["skip_reason"]
        counts["targeted"] += n
        for name, wanted in BY_STATUS.items():
            counts[name] += n if status == wanted else 0
        for name, (statuses, column) in BY_STATUS_OR_TIME.items():
            counts[name] += n if status in statuses else g[f"n_{column}"]
        if status == S.SKIPPED:
            skipped[reason] = skipped.get(reason, 0) + n
            if g["variant_id"] is not None:  # skipped at the send, not at the freeze: still the campaign's
                treatment_by_variant[g["variant_id"]] = treatment_by_variant.get(g["variant_id"], 0) + n
        elif status == S.HELD_OUT:
            counts["control_ineligible"] += n if reason else 0
            control_members += 0 if reason else n
        else:
            treatment_by_variant[g["variant_id"]] = treatment_by_variant.get(g["variant_id"], 0) + n
        if g["last_sent"] and (last_sent is None or g["last_sent"] > last_sent):
            last_sent = g["last_sent"]
    bought = {
        (control, variant_id): Figures(0, converters, purchases, Decimal(revenue), squares)
        for control, variant_id, converters, purchases, revenue, squares in figures["bought"]
    }
    control = Figures(members=control_members) + bought.get((True, None), Figures())
    treatment = Figures(members=sum(treatment_by_variant.values()))
    for (is_control, _variant), bought_figures in bought.items():
        if not is_control:
            treatment += bought_figures
    return Tally(counts, skipped, treatment_by_variant, bought, treatment, control, last_sent)


def revenue_lift(campaign: Campaign, treatment: Figures, control: Figures) -> stats.Lift | None:
    """Revenue per member against the control group; none without one. The results page and the leaderboard
    both call this, so they agree."""
    if campaign.control_percent <= 0:
        return None
    return stats.revenue_lift(treatment.group(), control.group())


def results_from(campaign: Campaign, figures: dict, *, computed_at: datetime) -> Results:
    """Counts, groups, lifts, checks and verdict from the raw figures (no query but the campaign's variants)."""
    t = tally(figures)
    counts, skipped, treatment, control, last_sent = t.counts, t.skipped, t.treatment, t.control, t.last_sent
    treatment_by_variant, bought = t.treatment_by_variant, t.bought
    start = datetime.fromisoformat(last_sent) if last_sent else _anchor(campaign)
    results = Results(
        campaign=campaign,
        counts=counts,
        skipped=dict(sorted(skipped.items())),
        coupons_redeemed=figures["coupons_redeemed"],
        treatment=treatment,
        control=control,
        window_closes=start + timedelta(days=campaign.attribution_days) if start else None,
        computed_at=computed_at,
    )
    if results.has_control:
        results.revenue = revenue_lift(campaign, treatment, control)
        results.conversion = stats.conversion_lift(treatment.group(), control.group())
        # The draw holds out control_percent of everyone; the guardrails then apply to both sides alike.
        share = campaign.control_percent / 100
        results.srm = stats.srm_check([treatment.members, control.members], [1 - share, share])
    results.verdict = stats.verdict(
        revenue=results.revenue, conversion=results.conversion, srm=results.srm, has_control=results.has_control
    )
    _variants(results, treatment_by_variant, bought)
    return results


def _variants(results: Results, treatment_by_variant: dict[int | None, int], bought: dict) -> None:
    """Each variant's rows (the test's, and once a winner is chosen, the rest's with it), compared on the
    campaign's winner metric."""
    variants = list(results.campaign.variants.order_by("label"))
    if len(variants) < 2:
        return
    figures = [
        Figures(members=treatment_by_variant.get(v.pk, 0)) + bought.get((False, v.pk), Figures()) for v in variants
    ]
    choice = stats.ab_choose([f.group() for f in figures], metric=results.campaign.winner_metric)
    comparisons = {c.index: c for c in choice.comparisons} if choice else {}
    results.ab = choice
    results.variants = [
        VariantResult(v, f, comparisons.get(i)) for i, (v, f) in enumerate(zip(variants, figures, strict=True))
    ]
    # The test splits its share evenly between the variants; only before the winner gets the rest.
    if results.campaign.winner_id is None:
        results.variant_srm = stats.srm_check([f.members for f in figures], [1] * len(figures))


# The beat job counts every 5 minutes (marketing.services.results); a snapshot up to this old is shown as it is.
SNAPSHOT_FRESH = timedelta(minutes=15)


def snapshot_final(snapshot: ResultsSnapshot, campaign: Campaign) -> bool:
    """Counted a day after the last window closed, of a campaign that sends no more: it will not change."""
    if campaign.status not in (CampaignStatus.SENT, CampaignStatus.CANCELLED) or campaign.kind != CampaignKind.ONE_OFF:
        return False
    sends = [g["last_sent"] for g in snapshot.figures["groups"] if g["last_sent"]]
    start = datetime.fromisoformat(max(sends)) if sends else campaign.started_at
    return start is not None and snapshot.computed_at > start + timedelta(days=campaign.attribution_days + 1)


def results_for_page(campaign: Campaign) -> Results:
    """The last snapshot while it is recent (or final), else counted now. Never writes: a page view stays a read."""
    snapshot = ResultsSnapshot.objects.filter(campaign=campaign).first()
    if snapshot is not None and (
        snapshot.computed_at >= timezone.now() - SNAPSHOT_FRESH or snapshot_final(snapshot, campaign)
    ):
        return results_from(campaign, snapshot.figures, computed_at=snapshot.computed_at)
    return campaign_results(campaign)
