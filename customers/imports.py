"""Importing customers (data migration from an old system); registered in crm.importers.

Rows are validated like the form, a chunk at a time: good rows go in with one bulk
insert per chunk, and rows already present (same legacy number, phone or e-mail)
are skipped.
"""

from collections.abc import Callable
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Field
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.importers import Importer, ImportReport, import_in_chunks
from crm.indexes import indexes_set_aside_for
from crm.lib.tables import Rows, parse_bool, parse_date, shown
from customers.models import ConsentMethod, Customer, Gender, Source, Tier
from customers.selectors import members_by_keys
from customers.services import customers_copy_in

CHUNK = 2000

FIELDS = {
    "name": (gettext_lazy("Name"), ["name", "full name", "姓名", "客户姓名", "会员姓名", "名字"]),
    "mobile": (gettext_lazy("Mobile phone"), ["mobile", "phone", "mobile phone", "手机", "手机号", "手机号码", "电话"]),
    "email": (gettext_lazy("E-mail"), ["email", "e-mail", "邮箱", "电子邮件", "电子邮箱"]),
    "gender": (gettext_lazy("Gender"), ["gender", "sex", "性别"]),
    "birthday": (gettext_lazy("Birthday"), ["birthday", "birth date", "date of birth", "生日", "出生日期"]),
    "province": (gettext_lazy("Province"), ["province", "state", "省", "省份"]),
    "city": (gettext_lazy("City"), ["city", "城市", "市"]),
    "address": (gettext_lazy("Address"), ["address", "地址", "详细地址"]),
    "occupation": (gettext_lazy("Occupation"), ["occupation", "job", "职业"]),
    "company": (gettext_lazy("Company"), ["company", "公司", "单位"]),
    "registered_on": (
        gettext_lazy("Registration date"),
        ["registered", "registered on", "registration date", "注册日期", "入会日期"],
    ),
    "legacy_number": (
        gettext_lazy("Legacy member number"),
        ["member number", "member no", "legacy number", "会员号", "会员编号", "卡号"],
    ),
    "tier": (gettext_lazy("Tier"), ["tier", "level", "等级", "会员等级"]),
    "email_opt_in": (gettext_lazy("E-mail consent"), ["email consent", "email opt-in", "邮件授权", "接收邮件"]),
    "sms_opt_in": (gettext_lazy("SMS consent"), ["sms consent", "sms opt-in", "短信授权", "接收短信"]),
    "notes": (gettext_lazy("Notes"), ["notes", "note", "remark", "备注"]),
}
GENDERS = {
    "男": Gender.MALE,
    "m": Gender.MALE,
    "male": Gender.MALE,
    "女": Gender.FEMALE,
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
}


# The fields a file fills, in the model's order (the order Model.clean_fields reports them in). Fields
# the file does not fill keep their (valid) defaults, so only the mapped ones are validated; the tier
# comes from our own lookup, and checking the key again would cost a query per row.
CHECKED = [f for f in Customer._meta.fields if f.name in FIELDS and f.name != "tier"]


class _Contacts(SimpleNamespace):
    """What Customer.normalize reads and writes, without a model instance per row."""


def _cleaner(field: Field) -> Callable[[Any], Any]:
    """Field.clean remembering the values it passed lately: a file repeats its provinces, cities, genders,
    consents and dates on most rows, and cleaning each cell was a third of the import's Python time. Clean
    depends on the value alone; a refused value is not remembered, so it is checked (and reported) each time."""
    return lru_cache(maxsize=4096)(lambda raw: field.clean(raw, None))


def _row_to_values(
    cells: list[str], mapping: dict[int, str], tiers: dict[str, Tier], checked: list[tuple[Field, Callable]]
) -> dict[str, Any]:
    """A row's column values ({attname: value}) for customers_copy_in, validated as the form and
    Model.clean_fields + normalize would, with the same messages in the same order; no Customer
    instance per row (the import's main cost once it was one). `checked`: the CHECKED fields mapped, each with
    its `_cleaner`."""
    values = {name: cells[i].strip() if i < len(cells) else "" for i, name in mapping.items()}
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {"source": Source.IMPORT}
    for name, text in values.items():
        try:
            if name in ("birthday", "registered_on"):
                if (parsed := parse_date(text)) is not None:
                    fields[name] = parsed
            elif name in ("email_opt_in", "sms_opt_in"):
                fields[name] = parse_bool(text)
            elif name == "gender":
                fields[name] = GENDERS.get(text.lower(), Gender.UNKNOWN)
            elif name == "tier":
                if text and text not in tiers:
                    raise ValidationError(_("Unknown tier “%(value)s”.") % {"value": shown(text)})
                fields["tier_id"] = tiers[text].pk if text else None
            else:
                fields[name] = text
        except ValidationError as e:
            errors[name] = e.messages
    for field, clean in checked:
        # Model.clean_fields for the cells the file gave: a blank one keeps its (valid) default.
        if field.name in errors or field.name not in fields:  # a date left blank
            continue
        raw = fields[field.name]
        if field.blank and raw in field.empty_values:
            continue
        try:
            fields[field.name] = clean(raw)
        except ValidationError as e:
            errors[field.name] = ValidationError(e.error_list).messages
    contacts = _Contacts(
        mobile=fields.get("mobile", ""),
        email=fields.get("email", ""),
        legacy_number=fields.get("legacy_number"),
        birthday=fields.get("birthday"),
    )
    errors.update(Customer.normalize(contacts))  # the one home of the contact rules, on plain values
    if errors:
        raise ValidationError(errors)
    fields.update(mobile=contacts.mobile, email=contacts.email, legacy_number=contacts.legacy_number)
    return fields


# The GIN search indexes, which a big import sets aside and builds again after (crm.indexes says why).
SEARCH_INDEXES = [
    "customer_name_trgm_idx",
    "customer_mobile_trgm_idx",
    "customer_email_trgm_idx",
    "customer_name_bigram_idx",
]


def _sets_search_indexes_aside(total: int | None) -> bool:
    """A big import into a table no bigger than it (a first load, a move from another system): building the
    search indexes once after costs less than keeping them up to date row by row. Into a bigger table, not:
    the build would read every row already there, and search would be slow for longer."""
    return total is not None and total >= settings.CRM_IMPORT_SET_ASIDE_ROWS and total >= Customer.objects.count()


def customers_import(
    rows: Rows, *, mapping: dict[int, str], actor, on_progress=None, total: int | None = None
) -> ImportReport:
    tiers = {name: t for t in Tier.objects.all() for name in t.names()}
    checked = [(f, _cleaner(f)) for f in CHECKED if f.name in mapping.values()]
    aside = SEARCH_INDEXES if _sets_search_indexes_aside(total) else []
    # Also with none to set aside: builds any that an import killed midway left unbuilt.
    with indexes_set_aside_for(table=Customer._meta.db_table, names=aside):
        return import_in_chunks(
            rows,
            parse=lambda cells: _row_to_values(cells, mapping, tiers, checked),
            keys=lambda row: [k for k in (row["legacy_number"], row["mobile"], row["email"]) if k],
            insert=lambda chunk, report: _insert_chunk([row for _line, _cells, row in chunk], report, actor),
            reason=CUSTOMERS.reason,
            duplicate=gettext_lazy("Same member as line %(line)d."),
            mapping=mapping,
            on_progress=on_progress,
            chunk_size=CHUNK,
        )


@transaction.atomic
def _insert_chunk(rows: list[dict[str, Any]], report: ImportReport, actor) -> None:
    # A chunk's commit does not wait for the disk: a crash of the database server may lose the last chunks'
    # commits (never half a chunk), and running the import again puts them in (it skips the rows already in).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
    present = set()
    for member in members_by_keys(
        legacy_numbers={row["legacy_number"] for row in rows if row["legacy_number"]},
        mobiles={row["mobile"] for row in rows if row["mobile"]},
        emails={row["email"] for row in rows if row["email"]},
    ):
        present.update(v for v in (member.legacy_number, member.mobile, member.email) if v)
    new = [row for row in rows if not {row["legacy_number"], row["mobile"], row["email"]} & present]
    report.skipped += len(rows) - len(new)
    created = customers_copy_in(rows=new, actor=actor, consent_method=ConsentMethod.IMPORT)
    report.created += len(created)
    report.note_members(created)


def imported_members(ids: list[int]) -> list[tuple[str, str]]:
    """(name, link) of the members an import wrote, for its result page, in the order given."""
    found = {c.pk: c for c in Customer.objects.filter(pk__in=ids).only("pk", "name", "crm_number")}
    return [(found[pk].name, found[pk].get_absolute_url()) for pk in ids if pk in found]


CUSTOMERS = Importer(
    kind="customers",
    label=gettext_lazy("Customers"),
    fields=FIELDS,
    required=frozenset({"name"}),
    permissions=("customers.add_customer", "customers.view_all_customers"),
    run=customers_import,
    members=imported_members,
    # Imported members are the ones whose source is "import" (this import's own are listed on its page).
    members_list=lambda: reverse("customers:list") + "?" + urlencode({"source": Source.IMPORT}),
)
