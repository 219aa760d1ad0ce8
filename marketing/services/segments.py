"""Every write to segments goes through here: pages, admin, jobs and the API."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib import crm_number
from crm.lib.phone import normalize_phone
from crm.lib.users import acting_user
from crm.models import Job
from customers import personal
from customers.models import Customer
from customers.selectors import customers_visible_to, members_by_keys
from customers.services import customers_write_export
from marketing.models import Segment, SegmentKind, SegmentMember
from marketing.rules import RuleError, rule_parse
from marketing.selectors import segment_members

MAX_UPLOAD_LINES = 1_000_000


@transaction.atomic
def segment_save(
    *, segment: Segment | None = None, name: str, description: str = "", rules: object, actor: AbstractBaseUser | None
) -> Segment:
    """Create a dynamic segment or change one (a static list: its name and description only); the rules are
    checked first, so a bad tree writes nothing."""
    try:
        rule_parse(rules)
    except RuleError as e:
        raise ValidationError({"rules": e.messages}) from None
    if segment is None:
        segment = Segment(kind=SegmentKind.DYNAMIC, created_by=acting_user(actor))
    elif segment.is_static and rules != segment.rules:  # renaming one is fine
        raise ValidationError(_("A static list has no rules to change: build a new segment instead."))
    if rules != segment.rules:
        segment.member_count = segment.counted_at = None  # the old count was for other rules
    segment.name, segment.description, segment.rules = name.strip(), description.strip(), rules
    _save_named(segment)
    return segment


def _save_named(segment: Segment, *, checked: bool = False) -> None:
    """Check and save; a name taken by someone else between the check and the save gets the same message as
    the check gives, not a database error."""
    if not checked:
        segment.full_clean()
    try:
        with transaction.atomic():  # a savepoint, so the caller's transaction survives the refusal
            segment.save()
    except IntegrityError:
        if Segment.objects.filter(name=segment.name).exclude(pk=segment.pk).exists():
            raise ValidationError({"name": segment.unique_error_message(Segment, ["name"])}) from None
        raise


def segment_count(*, segment: Segment) -> int:
    """Count the members now and keep the count with its time, for the list and the segment's page."""
    count = segment_members(segment).count()
    Segment.objects.filter(pk=segment.pk).update(member_count=count, counted_at=timezone.now())
    segment.member_count, segment.counted_at = count, timezone.now()
    return count


@transaction.atomic
def segment_freeze(*, segment: Segment, name: str, actor: AbstractBaseUser) -> Segment:
    """A static list of the members a segment holds right now, in one INSERT ... SELECT."""
    frozen = Segment(
        name=name.strip(),
        description=segment.description,
        kind=SegmentKind.STATIC,
        rules=segment.rules,
        frozen_from=segment,
        created_by=acting_user(actor),
    )
    _save_named(frozen)
    # The inner SQL is the ORM's compilation of checked rules; values travel as parameters.
    sql, params = segment_members(segment).values_list("pk", flat=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SegmentMember._meta.db_table} (segment_id, customer_id, added_at) "  # noqa: S608
            f"SELECT %s, ids.id, now() FROM ({sql}) AS ids(id) ON CONFLICT DO NOTHING",
            [frozen.pk, *params],
        )
        count = cursor.rowcount
    Segment.objects.filter(pk=frozen.pk).update(member_count=count, counted_at=timezone.now())
    frozen.refresh_from_db()
    return frozen


def _member_keys(text: str) -> list[tuple[str, object]]:
    """What one line of an upload could be: a CRM number, a mobile number, or both (eleven digits may be
    either), as ("crm", number) and ("mobile", stored form)."""
    keys: list[tuple[str, object]] = []
    try:
        number = crm_number.parse(text)
    except crm_number.InvalidCrmNumber:
        number = None
    if number is not None:
        keys.append(("crm", number))
    try:
        mobile = normalize_phone(text)
    except ValidationError:
        mobile = ""
    if mobile:
        keys.append(("mobile", mobile))
    return keys


@transaction.atomic
def segment_upload(
    *, name: str, description: str = "", lines: Iterable[str], actor: AbstractBaseUser
) -> tuple[Segment, list[tuple[int, str, str]]]:
    """A static list from lines of CRM numbers or mobile numbers (the first cell of each line). Returns the list
    and the bad lines as (line number, text, reason); the good lines go in."""
    segment = Segment(name=name.strip(), description=description.strip(), kind=SegmentKind.STATIC)
    segment.created_by = acting_user(actor)
    segment.full_clean()
    # Matching a phone number to a member (and the result page saying which matched) would be the search by
    # phone that masking denies: without the permission, only CRM numbers are matched.
    mobiles = personal.can_see(actor)
    lines_keys: list[tuple[int, str, list[tuple[str, object]]]] = []
    errors: list[tuple[int, str, str]] = []
    for line_number, line in enumerate(lines, start=1):
        if line_number > MAX_UPLOAD_LINES:
            raise ValidationError(_("A list may have at most %(max)s lines.") % {"max": f"{MAX_UPLOAD_LINES:,}"})
        text = line.split(",")[0].split("\t")[0].strip().strip('"').lstrip("\ufeff")
        if not text:
            continue
        keys = _member_keys(text)
        if not mobiles and keys and all(kind == "mobile" for kind, _value in keys):
            errors.append((line_number, text[:60], _("Mobile numbers are matched only for staff who may see them.")))
        elif keys:
            lines_keys.append((line_number, text[:60], [key for key in keys if mobiles or key[0] != "mobile"]))
        else:
            errors.append((line_number, text[:60], _("Not a CRM number or a mobile number.")))
    if not lines_keys and not mobiles and errors:
        raise ValidationError(
            _("The file holds no CRM number (mobile numbers are matched only for staff who may see them).")
        )
    if not lines_keys:
        raise ValidationError(_("The file holds no CRM number or mobile number."))
    _save_named(segment, checked=True)
    found = _customers_for({key for _n, _t, keys in lines_keys for key in keys})
    members = set()
    for line_number, text, keys in lines_keys:
        pk = next((found[key] for key in keys if key in found), None)
        if pk is None:
            errors.append((line_number, text, _("No member has this number.")))
        else:
            members.add(pk)
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, customer_id=pk) for pk in members],
        batch_size=5000,
        ignore_conflicts=True,
    )
    Segment.objects.filter(pk=segment.pk).update(member_count=len(members), counted_at=timezone.now())
    segment.refresh_from_db()
    errors.sort()
    return segment, errors


def _customers_for(wanted: set[tuple[str, object]]) -> dict[tuple[str, object], int]:
    numbers = [value for kind, value in wanted if kind == "crm"]
    mobiles = [value for kind, value in wanted if kind == "mobile"]
    found: dict[tuple[str, object], int] = {}
    for start in range(0, max(len(numbers), len(mobiles)), 10_000):
        for member in members_by_keys(
            crm_numbers=numbers[start : start + 10_000], mobiles=mobiles[start : start + 10_000]
        ):
            found[("crm", member.crm_number)] = found[("mobile", member.mobile)] = member.pk
    return found


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Delete a segment no campaign uses (a campaign's results name who it was for)."""
    used_by = list(segment.campaigns.order_by("name").values_list("name", flat=True)[:5])
    if used_by:
        raise ValidationError(
            _("“%(segment)s” is the segment of these campaigns, so it cannot be deleted: %(campaigns)s.")
            % {"segment": segment.name, "campaigns": ", ".join(used_by)}
        )
    segment.delete()


def segments_settle_merge(*, survivor: Customer, other: Customer, **kwargs: object) -> None:
    """Before a merge moves the other's rows to the survivor: drop the other's places in the lists the survivor
    is already on, so the move cannot break "once per list"."""
    SegmentMember.objects.filter(
        customer=other, segment__in=SegmentMember.objects.filter(customer=survivor).values("segment")
    ).delete()


def segment_export(*, job: Job) -> int:
    """Write the segment's members, as many as the starter may see, with the customer list's columns, masking and
    audit (customers_write_export). A segment deleted since the job was queued exports nothing."""
    segment = Segment.objects.filter(pk=job.params.get("segment")).first()
    members = segment_members(segment) if segment else Customer.objects.none()
    members = members & customers_visible_to(job.created_by)
    stem = f"segment-{segment.pk}" if segment else "segment"
    return customers_write_export(job=job, queryset=members, stem=stem, audit={"segment": job.params.get("segment")})
