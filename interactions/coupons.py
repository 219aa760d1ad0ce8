"""Coupons at the till, without interactions importing marketing.

Marketing issues coupons and knows their rules; the purchase service only knows that a purchase may carry a
code. So marketing registers a handler here from its AppConfig.ready(), as apps register the customer page's
sections, and the purchase and refund services call it inside their own transaction: a refused code refuses
the purchase, and a purchase that fails after the coupon was claimed gives the claim back with the rollback.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AppliedCoupon:
    code: str  # the stored form
    discount: Decimal
    claim: Callable[[object], None]  # called with the saved purchase: marks the coupon used by it, or refuses


class CouponHandler(Protocol):
    def apply(
        self, *, code: str, customer: object, amount: Decimal, lines: Sequence, at: object, actor: object = None
    ) -> AppliedCoupon: ...

    def restore(self, *, transaction: object) -> None: ...


_handler: CouponHandler | None = None


def register(handler: CouponHandler) -> None:
    global _handler  # noqa: PLW0603 -- one handler, set once at start-up
    _handler = handler


def coupon_apply(
    *, code: str, customer: object, amount: Decimal, lines: Sequence, at: object, actor: object = None
) -> AppliedCoupon:
    """`actor`: the staff member at the till (None: an integration), who is told only what they may know."""
    if _handler is None:
        raise ValidationError({"coupon_code": _("Coupons are not in use here.")})
    return _handler.apply(code=code, customer=customer, amount=amount, lines=lines, at=at, actor=actor)


def coupon_restore(*, transaction: object) -> None:
    """A refunded purchase gives its coupon back if the coupon is still valid."""
    if _handler is not None:
        _handler.restore(transaction=transaction)
