"""Importing purchase history (orders from an old till, shop or ERP); registered in crm.importers.

A row is one order: the customer (CRM number, legacy member number or phone), when,
amount, and optionally the order number, channel, store and one product line. The
order number makes a re-import skip what is already stored; rows without one get a
fingerprint of customer, time and amount instead, so importing the same file twice
adds nothing. Good rows go in through transactions_bulk_load (points and tiers follow).
"""

import datetime
import hashlib
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from crm.importers import Importer, ImportReport, Reason, import_in_chunks
from crm.lib import crm_number
from crm.lib.phone import normalize_phone
from crm.lib.tables import Rows, parse_datetime, parse_decimal, shown
from customers.imports import imported_members
from customers.models import Customer
from customers.selectors import members_by_keys
from interactions.models import Channel, Product, Transaction, TransactionLine, TransactionSource
from interactions.services import transactions_bulk_load

CHUNK = 2000
NO_CUSTOMER = gettext_noop("No such customer.")
NO_PRODUCT = gettext_noop("No product with this SKU.")
QUANTITY_MAX = 2**31 - 1  # what a Postgres integer (TransactionLine.quantity) holds
CURRENCY = re.compile("[A-Z]{3}")

FIELDS = {
    "customer": (
        gettext_lazy("Customer (CRM number, legacy member number or phone)"),
        ["customer", "crm number", "member", "会员", "客户", "crm 编号", "会员号", "会员编号", "手机号", "手机"],
    ),
    "occurred_at": (
        gettext_lazy("Date and time"),
        ["date", "time", "order date", "日期", "时间", "下单时间", "交易时间"],
    ),
    "amount": (gettext_lazy("Amount"), ["amount", "total", "金额", "实付金额", "订单金额"]),
    "external_ref": (gettext_lazy("Order number"), ["order", "order number", "order no", "订单号", "单号"]),
    "channel": (gettext_lazy("Channel"), ["channel", "渠道"]),
    "store": (gettext_lazy("Store"), ["store", "shop", "门店", "店铺"]),
    "currency": (gettext_lazy("Currency"), ["currency", "币种"]),
    "sku": (gettext_lazy("Product SKU"), ["sku", "product", "商品编码", "货号"]),
    "quantity": (gettext_lazy("Quantity"), ["quantity", "qty", "数量"]),
}
EXTRA_CHANNELS = {
    "门店": Channel.STORE,
    "线下": Channel.STORE,
    "网店": Channel.ONLINE,
    "线上": Channel.ONLINE,
    "电商": Channel.ONLINE,
    "小程序": Channel.APP,
    "电话": Channel.PHONE,
}


@cache
def channels() -> dict[str, Channel]:
    """Channel names accepted in a file: codes, and the labels in every UI language (so exports re-import)."""
    names = {c.value: c for c in Channel} | EXTRA_CHANNELS
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names |= {str(c.label).lower(): c for c in Channel}
    return names


def _customer_key(text: str) -> tuple[str, str | int]:
    """How a customer cell names the customer: ("crm", number), ("phone", e164) or ("legacy", text)."""
    try:
        number = crm_number.parse(text)
    except crm_number.InvalidCrmNumber:
        number = None
    if number is not None:
        return "crm", number
    try:
        phone = normalize_phone(text)
    except ValidationError:
        phone = ""
    return ("phone", phone) if phone else ("legacy", text)


def _parse_row(cells: list[str], mapping: dict[int, str]) -> dict:
    values = {name: cells[i].strip() if i < len(cells) else "" for i, name in mapping.items()}
    errors: dict[str, list[str]] = {}
    row = {"store": values.get("store", ""), "sku": values.get("sku", "")}

    def check(name, parse):
        try:
            row[name] = parse(values.get(name, ""))
        except ValidationError as e:
            errors[name] = e.messages

    check("occurred_at", _occurred_at)
    check("amount", _amount)
    check("quantity", _quantity)
    check("store", _fitting("store"))
    check("external_ref", _fitting("external_ref"))
    if not values.get("customer"):
        errors["customer"] = [_("Which customer bought this?")]
    if "occurred_at" not in errors and row["occurred_at"] is None:
        errors["occurred_at"] = [_("When was this bought?")]
    channel = values.get("channel", "").lower()
    if channel and channel not in channels():
        errors["channel"] = [_("Unknown channel “%(value)s”.") % {"value": shown(values["channel"])}]
    currency = values.get("currency", "").upper()
    if currency and not CURRENCY.fullmatch(currency):
        errors["currency"] = [_("Use a three-letter currency code such as CNY.")]
    if errors:
        raise ValidationError(errors)
    row["channel"] = channels().get(channel, Channel.STORE)
    row["currency"] = currency or None
    row["customer"] = _customer_key(values["customer"])
    row["external_ref"] = row["external_ref"] or _fingerprint(values)
    return row


def _fitting(name: str) -> Callable[[str], str]:
    """A parser that keeps the text if Transaction.<name> can hold it: cutting an order number
    could merge two orders, so an over-long one is reported instead."""

    def parse(text: str) -> str:
        Transaction._meta.get_field(name).run_validators(text)
        return text

    return parse


def _occurred_at(text: str) -> datetime.datetime | None:
    when = parse_datetime(text)  # within crm.lib.dates' range, so the time zone and points expiry cannot overflow
    return timezone.make_aware(when) if when else None


def _amount(text: str) -> Decimal | None:
    amount = parse_decimal(text)
    if amount is None or amount <= 0:
        raise ValidationError(_("The amount must be more than 0."))
    Transaction._meta.get_field("amount").run_validators(amount)  # digits and decimal places the column holds
    return amount


def _quantity(text: str) -> int:
    quantity = parse_decimal(text)
    if quantity is None:
        return 1
    if quantity != quantity.to_integral_value():
        raise ValidationError(_("The quantity must be a whole number."))
    if quantity < 1:
        raise ValidationError(_("The quantity must be at least 1."))
    if quantity > QUANTITY_MAX:  # before int(): "1e999999999" would be a billion-digit integer
        raise ValidationError(_("The quantity must be at most %(max)d.") % {"max": QUANTITY_MAX})
    return int(quantity)


def _fingerprint(values: dict) -> str:
    raw = "|".join(values.get(k, "") for k in ("customer", "occurred_at", "amount", "store", "sku"))
    return "row-" + hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:24]


def transactions_import(
    rows: Rows, *, mapping: dict[int, str], actor, on_progress=None, total: int | None = None
) -> ImportReport:
    return import_in_chunks(
        rows,
        parse=lambda cells: _parse_row(cells, mapping),
        keys=lambda row: [row["external_ref"]],
        insert=lambda chunk, report: _insert_chunk(chunk, report, actor, mapping),
        reason=TRANSACTIONS.reason,
        duplicate=gettext_lazy("Same order as line %(line)d."),
        mapping=mapping,
        on_progress=on_progress,
        chunk_size=CHUNK,
    )


def _not_found(field: str, message: str, mapping: dict[int, str]) -> Reason:
    """A row naming a customer or product we do not have (`message` untranslated, said in any language)."""
    return Reason(
        lambda: TRANSACTIONS.reason({field: [_(message)]}), fields=[field] if field in mapping.values() else []
    )


def _insert_chunk(chunk, report: ImportReport, actor, mapping: dict[int, str]) -> None:
    customers = _customers_for([row["customer"] for _l, _c, row in chunk])
    products = {p.sku: p for p in Product.objects.filter(sku__in={row["sku"] for _l, _c, row in chunk if row["sku"]})}
    stored = set(
        Transaction.objects.filter(
            source=TransactionSource.IMPORT, external_ref__in=[row["external_ref"] for _l, _c, row in chunk]
        ).values_list("external_ref", flat=True)
    )
    transactions, lines = [], []
    for line, cells, row in chunk:
        customer = customers.get(row["customer"])
        if customer is None:
            report.errors.append((line, cells, _not_found("customer", NO_CUSTOMER, mapping)))
            continue
        if row["sku"] and row["sku"] not in products:
            report.errors.append((line, cells, _not_found("sku", NO_PRODUCT, mapping)))
            continue
        if row["external_ref"] in stored:
            report.skipped += 1
            continue
        transactions.append(
            Transaction(
                customer=customer,
                occurred_at=row["occurred_at"],
                amount=row["amount"],
                channel=row["channel"],
                store=row["store"],
                source=TransactionSource.IMPORT,
                external_ref=row["external_ref"],
                recorded_by=actor,
                **({"currency": row["currency"]} if row["currency"] else {}),
            )
        )
        product = products.get(row["sku"])
        unit_price = (row["amount"] / row["quantity"]).quantize(Decimal("0.01"))
        lines.append(
            [
                TransactionLine(
                    product=product,
                    description=product.name if product else "",
                    quantity=row["quantity"],
                    unit_price=unit_price,
                    line_total=row["amount"],
                )
            ]
            if product
            else []
        )
    if transactions:
        report.created += transactions_bulk_load(transactions=transactions, lines=lines)
        report.note_members(t.customer_id for t in transactions)


def _customers_for(keys: list[tuple[str, str | int]]) -> dict[tuple[str, str | int], Customer]:
    by_kind: dict[str, set] = {"crm": set(), "phone": set(), "legacy": set()}
    for kind, value in keys:
        by_kind[kind].add(value)
    keyed = members_by_keys(crm_numbers=by_kind["crm"], mobiles=by_kind["phone"], legacy_numbers=by_kind["legacy"])
    found = {}
    for customer in Customer.objects.filter(pk__in=[m.pk for m in keyed]).select_related("tier"):
        found[("crm", customer.crm_number)] = customer
        if customer.mobile:
            found[("phone", customer.mobile)] = customer
        if customer.legacy_number:
            found[("legacy", customer.legacy_number)] = customer
    return found


TRANSACTIONS = Importer(
    kind="transactions",
    label=gettext_lazy("Purchases"),
    fields=FIELDS,
    required=frozenset({"customer", "occurred_at", "amount"}),
    permissions=("interactions.add_transaction", "customers.view_all_customers"),
    run=transactions_import,
    members=imported_members,  # the members given purchases
)
