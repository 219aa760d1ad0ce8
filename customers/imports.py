"""Importing customers (data migration from an old system); registered in crm.importers.

Rows are validated like the form, a chunk at a time: good rows go in with one bulk
insert per chunk, and rows already present (same legacy number, phone or e-mail)
are skipped.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.importers import Importer, ImportReport, import_in_chunks
from crm.lib.tables import Rows, parse_bool, parse_date, shown
from customers.models import ConsentMethod, Customer, Gender, Source, Tier
from customers.services import customers_bulk_create

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


# Fields the file does not fill keep their (valid) defaults, so only the mapped ones are validated;
# the tier comes from our own lookup, and checking the key again would cost a query per row.
UNVALIDATED = {f.name for f in Customer._meta.fields} - set(FIELDS) | {"tier"}


def _row_to_customer(cells: list[str], mapping: dict[int, str], tiers: dict[str, Tier]) -> Customer:
    values = {name: cells[i].strip() if i < len(cells) else "" for i, name in mapping.items()}
    errors: dict[str, list[str]] = {}
    fields = {"source": Source.IMPORT}
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
                fields[name] = tiers.get(text)
            else:
                fields[name] = text
        except ValidationError as e:
            errors[name] = e.messages
    customer = Customer(**fields)
    try:
        customer.clean_fields(exclude=UNVALIDATED | errors.keys())
    except ValidationError as e:
        errors.update(e.message_dict)
    errors.update(customer.normalize())
    if errors:
        raise ValidationError(errors)
    return customer


def customers_import(rows: Rows, *, mapping: dict[int, str], actor, on_progress=None) -> ImportReport:
    tiers = {t.name: t for t in Tier.objects.all()}
    return import_in_chunks(
        rows,
        parse=lambda cells: _row_to_customer(cells, mapping, tiers),
        keys=lambda c: [k for k in (c.legacy_number, c.mobile, c.email) if k],
        insert=lambda chunk, report: _insert_chunk([c for _line, _cells, c in chunk], report, actor),
        reason=CUSTOMERS.reason,
        duplicate=_("Same member as line %(line)d."),
        on_progress=on_progress,
        chunk_size=CHUNK,
    )


@transaction.atomic
def _insert_chunk(customers: list[Customer], report: ImportReport, actor) -> None:
    q = Q(legacy_number__in=[c.legacy_number for c in customers if c.legacy_number])
    q |= Q(mobile__in=[c.mobile for c in customers if c.mobile])
    q |= Q(email__in=[c.email for c in customers if c.email])
    present = set()
    for legacy, mobile, email in Customer.objects.filter(q).values_list("legacy_number", "mobile", "email"):
        present.update(v for v in (legacy, mobile, email) if v)
    new = [c for c in customers if not {c.legacy_number, c.mobile, c.email} & present]
    report.skipped += len(customers) - len(new)
    created = customers_bulk_create(customers=new, actor=actor, consent_method=ConsentMethod.IMPORT)
    report.created += len(created)


CUSTOMERS = Importer(
    kind="customers",
    label=gettext_lazy("Customers"),
    fields=FIELDS,
    required=frozenset({"name"}),
    permissions=("customers.add_customer", "customers.view_all_customers"),
    run=customers_import,
)
