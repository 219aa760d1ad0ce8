"""What purchases add to the customer's page (registered from InteractionsConfig.ready())."""

import functools

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.lib.money import format_money
from customers.models import Customer, Tier
from customers.sections import (
    PAGE_SIZE,
    Section,
    TimelineItem,
    TimelineWindow,
    quick_action,
    register_sections,
    register_timeline,
)
from customers.services.tiers import tier_progress, tier_window
from interactions import selectors
from interactions.models import TransactionStatus


def purchase_sections(request: HttpRequest, customer: Customer) -> list[Section]:
    """Spend in the header, tier progress and categories beside, the purchase history as a tab: three
    queries whatever the history (the summary shared), and two more (a page of purchases and their lines)
    when the tab is shown."""
    user = request.user
    if not user.has_perm("interactions.view_transaction"):
        return []

    @functools.cache
    def summary() -> dict:
        return selectors.purchase_summary(customer=customer, window_since=timezone.now() - tier_window())

    def purchases() -> dict:
        paginator = Paginator(selectors.transactions_for_customer(customer=customer), PAGE_SIZE)
        paginator.count = summary()["transactions"]  # known from the summary: saves the COUNT query
        return {"summary": summary(), "page": paginator.get_page(request.GET.get("purchases_page"))}

    def progress() -> dict:
        tiers = list(Tier.objects.order_by("rank"))
        data = tier_progress(customer=customer, tiers=tiers, window_spend=summary()["window_spend"])
        return data | {"window_days": tier_window().days}

    sections = [
        Section(
            key="purchase-facts",
            template="interactions/includes/purchase_facts.html",
            column="summary",
            order=10,
            load=lambda: {"summary": summary()},
        ),
        Section(
            key="tier-progress",
            template="interactions/includes/tier_progress.html",
            column="side",
            order=10,
            load=progress,
        ),
        Section(
            key="purchase-categories",
            template="interactions/includes/preferred_categories.html",
            column="side",
            order=20,
            load=lambda: {"categories": selectors.preferred_categories_from_purchases(customer=customer)},
        ),
        Section(
            key="purchases",
            template="interactions/includes/purchases_section.html",
            column="main",
            order=10,
            label=gettext_lazy("Purchases"),
            data={"can_refund": user.has_perm("interactions.refund_transaction")},
            load=purchases,
            query=("purchases_page",),
        ),
    ]
    if user.has_perm("interactions.add_transaction"):
        sections.append(
            quick_action(
                key="record-purchase",
                label=_("Record purchase"),
                url=reverse("interactions:purchase_record", args=[customer.crm_number]),
                icon="bag-plus",
                order=20,
            )
        )
    return sections


def purchase_timeline(user: AbstractBaseUser, customer: Customer, window: TimelineWindow) -> list[TimelineItem]:
    if not user.has_perm("interactions.view_transaction"):
        return []
    items = []
    for tx in window.apply(
        selectors.transactions_for_customer(customer=customer).prefetch_related(None), at="occurred_at"
    ):
        detail = " · ".join(filter(None, [tx.get_channel_display(), tx.store]))
        if tx.status != TransactionStatus.COMPLETED:
            detail += f" · {tx.get_status_display()}"
        items.append(
            TimelineItem(
                at=tx.occurred_at,
                icon="bag",
                title=_("Purchase %(amount)s") % {"amount": format_money(tx.amount, tx.currency)},
                detail=detail,
                kind=window.kind,
                pk=tx.pk,
            )
        )
    return items


def register() -> None:
    register_sections("purchases", purchase_sections)
    register_timeline("purchases", purchase_timeline, label=gettext_lazy("Purchases"))
