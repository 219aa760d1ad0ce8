"""A data-subject export: everything held on one customer, contributed by the apps that hold it.

Why a registry (as for the customer page's sections): purchases, messages and scores belong to apps that
depend on customers, never the reverse. Each app registers a part from its AppConfig.ready(): a function
giving the customer's rows as tables. The export is those tables as JSON (field names and stored values, for a
machine) and as a readable HTML file (the fields' labels, choices in words, for the person).
"""

import datetime
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from crm.lib import crm_number
from crm.models import AuditEvent
from customers.models import ConsentEvent, Customer, MergeRecord, PointsEntry, TierChange


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    choices: dict = field(default_factory=dict)  # stored value -> words, for the readable file


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict]

    def readable_rows(self) -> list[list[str]]:
        return [[_readable(row.get(c.name), c) for c in self.columns] for row in self.rows]


@dataclass(frozen=True)
class Part:
    key: str
    title: str
    order: int
    tables: Callable[[Customer], list[Table]]


_parts: dict[str, Part] = {}


def register_part(key: str, tables: Callable[[Customer], list[Table]], *, title: str, order: int) -> None:
    """Keyed, so registering twice (tests, autoreload) replaces instead of duplicating."""
    _parts[key] = Part(key=key, title=title, order=order, tables=tables)


def table(
    key: str,
    title: str,
    queryset: QuerySet,
    fields: Iterable[str | tuple[str, str]],
    *,
    model: type[Model] | None = None,
) -> Table:
    """The rows of `queryset` as a table of `fields`: a model field's name (its label and choices from the model),
    or (a lookup path such as "product__name", its label). One query."""
    model = model or queryset.model
    columns = []
    for spec in fields:
        name, label = spec if isinstance(spec, tuple) else (spec, "")
        choices = {}
        if not label:
            model_field = model._meta.get_field(name)
            label = model_field.verbose_name
            choices = dict(model_field.flatchoices) if model_field.choices else {}
        columns.append(Column(name=name, label=force_str(label), choices=choices))
    rows = list(queryset.values(*(c.name for c in columns)))
    return Table(key=key, title=force_str(title), columns=columns, rows=rows)


def subject_export(customer: Customer) -> dict:
    """Every registered part's tables for this customer, in order."""
    parts = sorted(_parts.values(), key=lambda p: p.order)
    return {
        "crm_number": crm_number.format_number(customer.crm_number),
        "generated_at": timezone.now(),
        "parts": [{"key": p.key, "title": force_str(p.title), "tables": p.tables(customer)} for p in parts],
    }


def as_json(export: dict) -> bytes:
    data = {
        "crm_number": export["crm_number"],
        "generated_at": export["generated_at"],
        "parts": {part["key"]: {t.key: t.rows for t in part["tables"]} for part in export["parts"]},
    }
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def as_html(export: dict) -> bytes:
    return render_to_string("customers/personal_data_export.html", {"export": export}).encode()


def _readable(value: object, column: Column) -> str:
    if value is None or value == "":
        return ""
    if column.choices and value in column.choices:
        return force_str(column.choices[value])
    if isinstance(value, bool):
        return force_str(_("Yes") if value else _("No"))
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (datetime.date, Decimal, int, float)):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return force_str(value)


# Every column of the customer row, not customers.models.PROFILE_FIELDS (the ones staff edit).
EXPORTED_PROFILE = [
    "crm_number",
    "legacy_number",
    "name",
    "gender",
    "birthday",
    "birthday_is_lunar",
    "mobile",
    "email",
    "occupation",
    "company",
    "province",
    "city",
    "address",
    "id_type",
    "id_number",  # decrypted: the export is the person's own data, in full
    "source",
    "registered_on",
    ("owner__username", _("owner")),
    ("tier__name", _("tier")),
    "tier_since",
    "points_balance",
    "notes",
    "language",
    "email_opt_in",
    "sms_opt_in",
    "created_at",
    "updated_at",
    "erased_at",
]


def _customer_tables(customer: Customer) -> list[Table]:
    profile = table("profile", _("Profile"), Customer.objects.filter(pk=customer.pk), EXPORTED_PROFILE)
    labels = [
        Table(
            key="tags",
            title=force_str(_("Tags and preferred categories")),
            columns=[Column("kind", force_str(_("kind"))), Column("name", force_str(_("name")))],
            rows=[{"kind": force_str(_("tag")), "name": n} for n in customer.tags.values_list("name", flat=True)]
            + [
                {"kind": force_str(_("preferred product category")), "name": n}
                for n in customer.preferred_categories.values_list("name", flat=True)
            ],
        )
    ]
    return [
        profile,
        *labels,
        table(
            "consent",
            _("Consent history"),
            ConsentEvent.objects.filter(customer=customer).order_by("at", "id"),
            ["at", "channel", "granted", "method", "note"],
        ),
        table(
            "points",
            _("Points ledger"),
            PointsEntry.objects.filter(customer=customer).order_by("at", "id"),
            ["at", "kind", "points", "balance_after", "reason_code", "reason_params", "reference", "expires_on"],
        ),
        table(
            "tier_changes",
            _("Tier changes"),
            TierChange.objects.filter(customer=customer).order_by("at", "id"),
            ["at", "kind", ("from_tier__name", _("from")), ("to_tier__name", _("to")), "reason_code", "reason_params"],
        ),
        table(
            "merges",
            _("Records merged into this one"),
            MergeRecord.objects.filter(survivor=customer).order_by("at"),
            ["at", "merged_crm_number", "merged_name", "snapshot"],
        ),
    ]


def _audit_tables(customer: Customer) -> list[Table]:
    return [
        table(
            "audit",
            _("Who viewed, changed, exported or erased this customer's data"),
            AuditEvent.objects.filter(customer_id=customer.pk).order_by("at", "id"),
            ["at", "action", "actor_name", "api_client", "changes"],
        )
    ]


register_part("customer", _customer_tables, title=_("Customer"), order=0)
register_part("audit", _audit_tables, title=_("Audit trail"), order=90)
