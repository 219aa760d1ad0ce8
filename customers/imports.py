"""Importing customers from CSV or xlsx (data migration from an old system).

Rows are validated like the form, a chunk at a time: bad rows are reported with
their line number and reason (and kept in a downloadable file), good rows go in
with one bulk insert per chunk, and rows already present (same legacy number,
phone or e-mail) are skipped, so importing the same file twice adds nothing.
"""

import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from crm.jobs import job_finish, job_progress
from crm.lib import tabular
from crm.models import Job
from customers.models import AuditAction, ConsentChannel, ConsentEvent, ConsentMethod, Customer, Gender, Source, Tier

CHUNK = 2000

# Target field -> header names recognised automatically (lower-case).
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
REQUIRED = {"name"}
GENDERS = {
    "男": Gender.MALE,
    "m": Gender.MALE,
    "male": Gender.MALE,
    "女": Gender.FEMALE,
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
}
TRUE = {"1", "y", "yes", "true", "是", "同意", "✓"}
FALSE = {"", "0", "n", "no", "false", "否", "不同意"}
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%d/%m/%Y", "%Y年%m月%d日"]


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, format, no header)."""


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    errors: list[tuple[int, list[str], str]] = field(default_factory=list)  # (line, row, reason)

    def summary(self) -> str:
        return _("%(created)d created, %(skipped)d already present, %(failed)d with errors.") % {
            "created": self.created,
            "skipped": self.skipped,
            "failed": len(self.errors),
        }


def read_table(content: bytes, filename: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Headers and (line number, cells) rows of a CSV (UTF-8 or GBK) or xlsx file."""
    if PurePath(filename).suffix.lower() in (".xlsx", ".xlsm"):
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        except Exception as e:  # openpyxl raises many kinds for a file that is not a workbook
            raise ImportFileError(_("This is not a readable Excel (xlsx) file.")) from e
        rows = ((n, [_cell(v) for v in row]) for n, row in enumerate(sheet.iter_rows(values_only=True), start=1))
    else:
        rows = enumerate(csv.reader(io.StringIO(_decode(content))), start=1)
    try:
        _line, headers = next(rows)
    except (StopIteration, csv.Error) as e:
        raise ImportFileError(_("The file is empty or has no header row.")) from e
    headers = [h.strip() for h in headers]
    return headers, ((n, cells) for n, cells in rows if any(c.strip() for c in cells))


def _decode(content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise ImportFileError(_("This does not look like a CSV file (it contains binary data)."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The file's text encoding is not UTF-8 or GBK; save it as UTF-8 CSV and try again."))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def guess_mapping(headers: list[str]) -> dict[int, str]:
    """Column index -> field, for the headers we recognise."""
    mapping = {}
    for index, header in enumerate(headers):
        for name, (label, aliases) in FIELDS.items():
            if header.lower() in aliases or header == str(label):
                mapping.setdefault(index, name)
    return mapping


def mapping_errors(mapping: dict[int, str]) -> list[str]:
    missing = REQUIRED - set(mapping.values())
    return [_("No column is mapped to %(field)s.") % {"field": FIELDS[f][0]} for f in sorted(missing)]


def _parse_date(text: str) -> datetime.date | None:
    text = text.strip()
    if not text:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError(_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": text})


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": text})


def _row_to_customer(cells: list[str], mapping: dict[int, str], tiers: dict[str, Tier]) -> Customer:
    values = {name: cells[i].strip() if i < len(cells) else "" for i, name in mapping.items()}
    errors: dict[str, list[str]] = {}
    fields = {"source": Source.IMPORT}
    for name, text in values.items():
        try:
            if name in ("birthday", "registered_on"):
                if (parsed := _parse_date(text)) is not None:
                    fields[name] = parsed
            elif name in ("email_opt_in", "sms_opt_in"):
                fields[name] = _parse_bool(text)
            elif name == "gender":
                fields[name] = GENDERS.get(text.lower(), Gender.UNKNOWN)
            elif name == "tier":
                if text and text not in tiers:
                    raise ValidationError(_("Unknown tier “%(value)s”.") % {"value": text})
                fields[name] = tiers.get(text)
            else:
                fields[name] = text
        except ValidationError as e:
            errors[name] = e.messages
    customer = Customer(**fields)
    try:
        customer.clean_fields(exclude={"crm_number", *errors})
    except ValidationError as e:
        errors.update(e.message_dict)
    errors.update(customer.normalize())
    if errors:
        raise ValidationError(errors)
    return customer


def _reason(error: ValidationError) -> str:
    labels = {name: str(label) for name, (label, _aliases) in FIELDS.items()}
    return "; ".join(f"{labels.get(f, f)}: {' '.join(m)}" for f, m in error.message_dict.items())


def import_rows(rows, *, mapping: dict[int, str], actor, on_progress=None) -> ImportReport:
    report = ImportReport()
    tiers = {t.name: t for t in Tier.objects.all()}
    seen: dict[str, int] = {}  # key value -> line, to catch duplicates inside the file
    chunk: list[tuple[int, list[str], Customer]] = []
    done = 0
    for line, cells in rows:
        done += 1
        try:
            customer = _row_to_customer(cells, mapping, tiers)
        except ValidationError as e:
            report.errors.append((line, cells, _reason(e)))
            continue
        keys = [k for k in (customer.legacy_number, customer.mobile, customer.email) if k]
        if dup := next((seen[k] for k in keys if k in seen), None):
            report.errors.append((line, cells, _("Same member as line %(line)d.") % {"line": dup}))
            continue
        seen.update((k, line) for k in keys)
        chunk.append((line, cells, customer))
        if len(chunk) >= CHUNK:
            _insert_chunk(chunk, report, actor)
            chunk = []
            if on_progress:
                on_progress(done)
    _insert_chunk(chunk, report, actor)
    if on_progress:
        on_progress(done)
    return report


@transaction.atomic
def _insert_chunk(chunk, report: ImportReport, actor) -> None:
    if not chunk:
        return
    from customers.services import audit_record

    customers = [c for _, _, c in chunk]
    q = Q(legacy_number__in=[c.legacy_number for c in customers if c.legacy_number])
    q |= Q(mobile__in=[c.mobile for c in customers if c.mobile])
    q |= Q(email__in=[c.email for c in customers if c.email])
    present = set()
    for legacy, mobile, email in Customer.objects.filter(q).values_list("legacy_number", "mobile", "email"):
        present.update(v for v in (legacy, mobile, email) if v)
    new = [c for c in customers if not {c.legacy_number, c.mobile, c.email} & present]
    report.skipped += len(customers) - len(new)
    created = Customer.objects.bulk_create(new)
    consents = [
        ConsentEvent(customer=c, channel=channel, granted=True, method=ConsentMethod.IMPORT, recorded_by=actor)
        for c in created
        for channel, flag in ((ConsentChannel.EMAIL, c.email_opt_in), (ConsentChannel.SMS, c.sms_opt_in))
        if flag
    ]
    ConsentEvent.objects.bulk_create(consents)
    report.created += len(created)
    if created:
        audit_record(actor=actor, customer=None, action=AuditAction.CREATE, changes={"imported": len(created)})


def customer_import(*, job: Job) -> ImportReport:
    """The background job: read the stored upload, import it, keep the bad rows as a file."""
    with default_storage.open(job.params["path"], "rb") as f:
        content = f.read()
    headers, rows = read_table(content, job.params["filename"])
    mapping = {int(k): v for k, v in job.params["mapping"].items()}
    job_progress(job, done=0, total=job.params.get("rows", 0))
    report = import_rows(rows, mapping=mapping, actor=job.created_by, on_progress=lambda n: job_progress(job, done=n))
    writer = tabular.CsvWriter()
    writer.write_row([_("Line"), _("Error"), *headers])
    for line, cells, reason in report.errors:
        writer.write_row([line, reason, *cells])
    job_finish(job, filename="import-errors.csv", content=writer.close(), message=report.summary())
    default_storage.delete(job.params["path"])
    return report
