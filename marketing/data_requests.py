"""What marketing adds to a data-subject export (customers.data_requests): the messages a member was sent (or
held out of), their coupons and reward exchanges. Survey answers are contacts (interactions' part). Registered
from MarketingConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from customers.data_requests import Table, register_part, table
from customers.models import Customer
from marketing.models import Coupon, Message, RewardExchange


def marketing_tables(customer: Customer) -> list[Table]:
    return [
        table(
            "messages",
            _("Messages"),
            Message.objects.filter(customer=customer).order_by("created_at", "id"),
            [
                ("campaign__name", _("campaign")),
                ("campaign__channel", _("channel")),
                "occasion",
                "status",
                "skip_reason",
                "address",
                "language",
                "created_at",
                "sent_at",
                "delivered_at",
                "opened_at",
                "clicked_at",
                "unsubscribed_at",
            ],
        ),
        table(
            "coupons",
            _("Coupons"),
            Coupon.objects.filter(customer=customer).order_by("issued_at", "id"),
            [
                "code",
                ("offer__name", _("offer")),
                "status",
                "valid_from",
                "valid_until",
                "issued_at",
                "redeemed_at",
                ("transaction_id", _("Purchase")),
                "discount",
            ],
        ),
        table(
            "reward_exchanges",
            _("Reward exchanges"),
            RewardExchange.objects.filter(customer=customer).order_by("at", "id"),
            [("item__name", _("reward")), "points", ("coupon__code", _("coupon")), "at"],
        ),
    ]


def register() -> None:
    register_part("marketing", marketing_tables, title=_("Marketing"), order=20)
