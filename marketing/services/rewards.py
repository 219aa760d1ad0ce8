"""The rewards catalogue: a member's points for an item, at the desk or through the API."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.users import acting_user
from customers.models import Customer, PointsReason, Reason
from customers.services import membership
from marketing.models import RewardExchange, RewardItem, RewardKind
from marketing.services.coupons import coupon_issue


@transaction.atomic
def reward_exchange(*, item: RewardItem, customer: Customer, actor: AbstractBaseUser | None) -> RewardExchange:
    """Take the item's points, take one from its stock and, for a coupon reward, issue the coupon: all or
    nothing. The item's row is locked first and the points ledger locks the member, so two desks exchanging
    the last item, or the last points, cannot both succeed."""
    item = RewardItem.objects.select_for_update(of=("self",)).select_related("offer").get(pk=item.pk)
    today = timezone.localdate()
    if not item.active or (item.valid_to and item.valid_to < today):
        raise ValidationError({"item": _("%(item)s is no longer offered.") % {"item": item.name}})
    if item.valid_from and item.valid_from > today:
        raise ValidationError(
            {"item": _("%(item)s is offered from %(date)s.") % {"item": item.name, "date": item.valid_from.isoformat()}}
        )
    if item.stock is not None and item.stock < 1:
        raise ValidationError({"item": _("%(item)s is out of stock.") % {"item": item.name}})
    entry = membership.points_redeem(
        customer=customer,
        points=item.points_price,
        reason=Reason(PointsReason.REWARD, {"item": item.name}),
        reference=f"reward:{item.pk}",
        actor=actor,
    )
    if item.stock is not None:
        RewardItem.objects.filter(pk=item.pk).update(stock=F("stock") - 1)
    exchange = RewardExchange.objects.create(
        item=item, customer=customer, points=item.points_price, points_entry=entry, by=acting_user(actor)
    )
    if item.kind == RewardKind.COUPON:
        exchange.coupon = coupon_issue(
            offer=item.offer, customer=customer, actor=actor, occasion=f"reward:{exchange.pk}", limited=False
        )
        exchange.save(update_fields=["coupon"])
    return exchange
