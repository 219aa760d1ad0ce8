"""Coupons: offers, issuing (to one member or a whole segment, exactly once per occasion) and redeeming at
the till through interactions.coupons, so a coupon is used by at most one purchase however many tills race."""

import datetime
import uuid
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.jobs import job_chunks_help, job_chunks_split, job_chunks_work, job_done
from crm.lib import coupon_code
from crm.lib.users import acting_user
from crm.models import Job, JobChunk
from customers.models import Category, Customer
from customers.selectors import customers_visible_to
from interactions.coupons import AppliedCoupon
from interactions.models import Product
from marketing.models import Coupon, CouponOffer, CouponStatus, Segment
from marketing.selectors import segment_members

REFUSALS = {
    "unknown": _("No coupon has this code."),
    "mistyped": _("This is not a coupon code: a character is mistyped (check the code again)."),
    "not_yet": _("This coupon can be used from %(date)s."),
    "expired": _("This coupon expired on %(date)s."),
    "used": _("This coupon has already been used."),
    "void": _("This coupon was withdrawn."),
    "other_member": _("This coupon was issued to another member."),
    "min_spend": _("This coupon needs a purchase of at least %(amount)s."),
    "not_covered": _("This coupon does not cover the products bought."),
}


class CouponRefused(ValidationError):
    def __init__(self, reason: str, **params: object) -> None:
        super().__init__({"coupon_code": ValidationError(REFUSALS[reason], code=reason, params=params)})
        self.reason = reason


@transaction.atomic
def coupon_offer_save(
    *,
    offer: CouponOffer,
    products: Iterable[Product] = (),
    categories: Iterable[Category] = (),
) -> CouponOffer:
    offer.full_clean(exclude=["issued_count"])
    offer.save()
    offer.products.set(products)
    offer.categories.set(categories)
    return offer


def _offer_open(offer: CouponOffer, *, today: datetime.date) -> None:
    if not offer.active:
        raise ValidationError(_("This offer is switched off."))
    if offer.valid_to and offer.valid_to < today:
        raise ValidationError(_("This offer ended on %(date)s.") % {"date": offer.valid_to.isoformat()})


def _new_coupon(offer: CouponOffer, customer_id: int, occasion: str, actor: AbstractBaseUser | None) -> Coupon:
    start, end = offer.validity_for(timezone.localdate())
    return Coupon(
        offer=offer,
        customer_id=customer_id,
        code=coupon_code.generate(),
        occasion=occasion,
        valid_from=start,
        valid_until=end,
        issued_by=acting_user(actor),
    )


@transaction.atomic
def coupon_issue(
    *, offer: CouponOffer, customer: Customer, actor: AbstractBaseUser | None, occasion: str = "", limited: bool = True
) -> Coupon:
    """One coupon for one member, within the offer's limits (the offer row is locked, so two issues at once
    cannot pass its cap together). Without an occasion each call is its own (a manual issue). A coupon the
    member paid for with points (`limited=False`) is not held to the per-member limit, only to the cap."""
    offer = CouponOffer.objects.select_for_update().get(pk=offer.pk)
    _offer_open(offer, today=timezone.localdate())
    if offer.max_issued is not None and offer.issued_count >= offer.max_issued:
        raise ValidationError(_("All %(max)s coupons of this offer have been issued.") % {"max": offer.max_issued})
    held = Coupon.objects.filter(offer=offer, customer=customer).count()
    if limited and held >= offer.per_member_limit:
        raise ValidationError(
            _("%(name)s already has %(count)s coupon(s) of this offer, the most a member may have.")
            % {"name": customer.name, "count": held}
        )
    occasion = occasion or f"manual:{uuid.uuid4().hex[:16]}"
    if Coupon.objects.filter(offer=offer, customer=customer, occasion=occasion).exists():
        raise ValidationError(_("This member was already given a coupon of this offer for this occasion."))
    for _attempt in range(3):  # a repeated random code (1 in 2^45 per pair) just draws again
        coupon = _new_coupon(offer, customer.pk, occasion, actor)
        try:
            with transaction.atomic():
                coupon.save()
            break
        except IntegrityError:
            continue
    CouponOffer.objects.filter(pk=offer.pk).update(issued_count=F("issued_count") + 1)
    return coupon


def coupons_issue_to_segment(
    *,
    offer: CouponOffer,
    segment: Segment,
    actor: AbstractBaseUser | None,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """A coupon for every member of the segment, exactly once per member however often it is run (the occasion
    is the segment), within the offer's per-member limit and cap, in this process (the background job spreads
    the same chunks over the workers: `coupons_issue_job`). Chunks of members in id order, each one transaction,
    so a killed run keeps its chunks and a re-run issues only the rest. Returns how many coupons this run issued."""
    occasion = f"segment:{segment.pk}"
    member_ids = list(segment_members(segment).order_by("pk").values_list("pk", flat=True))
    size = settings.CRM_COUPON_ISSUE_CHUNK
    issued = 0
    for start in range(0, len(member_ids), size):
        chunk = member_ids[start : start + size]
        issued += _issue_chunk(offer, chunk, occasion, actor)
        if on_progress:
            on_progress(min(start + size, len(member_ids)), len(member_ids))
    return issued


@transaction.atomic
def _issue_chunk(offer: CouponOffer, chunk: list[int], occasion: str, actor: AbstractBaseUser | None) -> int:
    offer = _offer_locked(offer)
    _offer_open(offer, today=timezone.localdate())
    held = dict(
        Coupon.objects.filter(offer=offer, customer_id__in=chunk)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    already = set(
        Coupon.objects.filter(offer=offer, occasion=occasion, customer_id__in=chunk).values_list(
            "customer_id", flat=True
        )
    )
    wanted = [pk for pk in chunk if pk not in already and held.get(pk, 0) < offer.per_member_limit]
    if offer.max_issued is not None:
        wanted = wanted[: max(offer.max_issued - offer.issued_count, 0)]
    coupons = [_new_coupon(offer, pk, occasion, actor) for pk in wanted]
    created = Coupon.objects.bulk_create(coupons, batch_size=len(coupons) or 1, ignore_conflicts=True)
    issued = Coupon.objects.filter(offer=offer, occasion=occasion, customer_id__in=wanted).count() if created else 0
    CouponOffer.objects.filter(pk=offer.pk).update(issued_count=F("issued_count") + issued)
    return issued


def _offer_locked(offer: CouponOffer) -> CouponOffer:
    """The offer, locked against a one-member issue (`coupon_issue` locks it FOR UPDATE) for the chunk's
    transaction. With a cap the chunks take turns (each reads how many are left); without one they share the
    lock (FOR KEY SHARE lets each add to issued_count), so the workers of a fleet issue side by side."""
    if offer.max_issued is not None:
        return CouponOffer.objects.select_for_update().get(pk=offer.pk)
    table = CouponOffer._meta.db_table
    return CouponOffer.objects.raw(f"SELECT * FROM {table} WHERE id = %s FOR KEY SHARE", [offer.pk])[0]  # noqa: S608


def _issue_targets(job: Job) -> tuple[CouponOffer | None, Segment | None]:
    offer = CouponOffer.objects.filter(pk=job.params.get("offer")).first()
    segment = Segment.objects.filter(pk=job.params.get("segment")).first()
    return offer, segment


def coupons_issue_job(*, job: Job) -> None:
    """The background job behind "issue to a segment": the members cut into chunks (once: a job taken up again
    after its worker died keeps them) that any worker takes (`coupons_issue_part_task`, queued here), this worker
    too; progress on the job page, and the count in its message from whoever does the last chunk."""
    from marketing.tasks import coupons_issue_part_task

    offer, segment = _issue_targets(job)
    if offer is None or segment is None:
        job_done(job, message=str(_("The offer or the segment was deleted; nothing was issued.")))
        return
    if not job.chunks.exists():
        member_ids = list(segment_members(segment).order_by("pk").values_list("pk", flat=True))
        if not job_chunks_split(job, ids=member_ids, size=settings.CRM_COUPON_ISSUE_CHUNK):
            job_done(job, message=_issued_message(0))
            return
    job_chunks_help(job, coupons_issue_part_task)
    coupons_issue_parts(job_id=job.pk)


def coupons_issue_parts(*, job_id: int) -> int:
    """Issue the coupons of the job's chunks nobody holds, one after another; the chunk's members are the
    segment's members in its id range at that moment. Returns the chunks done here."""
    job = Job.objects.filter(pk=job_id).first()
    offer, segment = _issue_targets(job) if job else (None, None)
    if offer is None or segment is None:
        return 0  # the job's own task says so on the job
    occasion = f"segment:{segment.pk}"

    def work(chunk: JobChunk) -> tuple[int, int]:
        members = segment_members(segment).filter(pk__gte=chunk.lo, pk__lt=chunk.hi).order_by("pk")
        member_ids = list(members.values_list("pk", flat=True))
        return len(member_ids), _issue_chunk(offer, member_ids, occasion, job.created_by)

    return job_chunks_work(job.pk, work, message=_issued_message)


def _issued_message(count: int) -> str:
    return str(_("%(count)s coupons issued.") % {"count": f"{count:,}"})


class CouponTill:
    """What the purchase service asks at the till (registered with interactions.coupons)."""

    def apply(
        self,
        *,
        code: str,
        customer: Customer,
        amount: Decimal,
        lines: Sequence,
        at: object,
        actor: AbstractBaseUser | None = None,
    ) -> AppliedCoupon:
        try:
            stored = coupon_code.parse(code)
        except coupon_code.InvalidCode:
            raise CouponRefused("mistyped") from None
        coupon = Coupon.objects.select_related("offer").filter(code=stored).first() if stored else None
        if coupon is None:
            raise CouponRefused("unknown")
        if coupon.customer_id != customer.pk:
            # Staff who see only their own book are not told that the code exists: it is another member's.
            if actor is not None and not customers_visible_to(actor).filter(pk=coupon.customer_id).exists():
                raise CouponRefused("unknown")
            raise CouponRefused("other_member")
        if coupon.status == CouponStatus.REDEEMED:
            raise CouponRefused("used")
        if coupon.status == CouponStatus.VOID:
            raise CouponRefused("void")
        day = timezone.localdate(at)
        if day < coupon.valid_from:
            raise CouponRefused("not_yet", date=coupon.valid_from.isoformat())
        if coupon.valid_until and day > coupon.valid_until:
            raise CouponRefused("expired", date=coupon.valid_until.isoformat())
        offer = coupon.offer
        if amount < offer.min_spend:
            raise CouponRefused("min_spend", amount=f"{offer.min_spend:,.2f}")
        base = _covered(offer, amount, lines)
        if base <= 0:
            raise CouponRefused("not_covered")
        discount = offer.discount_on(base)

        def claim(purchase: object) -> None:
            # The conditional update decides between tills that race for one code: one row for the winner.
            won = Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.ISSUED).update(
                status=CouponStatus.REDEEMED, redeemed_at=timezone.now(), transaction=purchase, discount=discount
            )
            if not won:
                raise CouponRefused("used")

        return AppliedCoupon(code=stored, discount=discount, claim=claim)

    def restore(self, *, transaction: object) -> None:
        today = timezone.localdate()
        Coupon.objects.filter(transaction=transaction, status=CouponStatus.REDEEMED).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today)
        ).update(status=CouponStatus.ISSUED, redeemed_at=None, transaction=None, discount=None)


def _covered(offer: CouponOffer, amount: Decimal, lines: Sequence) -> Decimal:
    """The part of the purchase the offer applies to: all of it, or the lines of its products and categories."""
    products = set(offer.products.values_list("pk", flat=True))
    categories = set(offer.categories.values_list("pk", flat=True))
    if not products and not categories:
        return amount
    covered = Decimal(0)
    for line in lines:
        product = line.product
        if product is not None and (product.pk in products or product.category_id in categories):
            price = line.unit_price if line.unit_price is not None else product.price
            covered += price * line.quantity
    return min(covered, amount)
