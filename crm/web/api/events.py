"""Shop behaviour in batches (views, favourites, cart additions), through interactions.services.behaviour_record.

A batch is refused whole (400) only when it is not a batch: no `events` list, an empty one, or more than
MAX_BATCH. Otherwise every event gets its own answer by index, accepted, duplicate or refused with the
reason, so one bad event does not cost the other 999. Idempotent on (event_id, occurred_at) per client:
a resent batch answers duplicate for what was stored before.

Events are checked here by hand rather than by a DRF serializer per event: a batch of 1,000 through
serializers spends more time in them than in the database.
"""

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.lib.dates import EARLIEST_DATE, LATEST_DATE
from crm.lib.phone import normalize_phone
from crm.web.api.fields import BOUNDS_MESSAGE
from crm.web.api.models import Scope
from crm.web.api.schema import error_responses
from interactions.models import BehaviourKind
from interactions.services import EventInput, behaviour_record
from interactions.services.behaviour import MAX_BATCH

KINDS = {
    "product_view": BehaviourKind.PRODUCT_VIEW,
    "category_view": BehaviourKind.CATEGORY_VIEW,
    "favourite": BehaviourKind.FAVOURITE,
    "cart_add": BehaviourKind.CART_ADD,
}
MAX_ID = 2**63 - 1


class Refused(Exception):
    """One event cannot be read; its message is the reason."""


def _text(raw: dict, key: str, *, limit: int, required: bool = False) -> str:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise Refused(_("%(field)s is required.") % {"field": key})
        return ""
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise Refused(
            _("%(field)s must be text of at most %(limit)s printable characters.") % {"field": key, "limit": limit}
        )
    return value


def _category(raw: dict) -> int | str | None:
    value = raw.get("category")
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    if isinstance(value, str) and len(value) <= 50:
        value = value.strip()
        if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
            return int(value)  # an id sent as text, as the schema's string type allows
        return value or None
    raise Refused(_("category must be a category's id or its name."))


def _when(value: object) -> datetime.datetime:
    """An ISO 8601 time; without an offset, local time. Read without a DRF field: cheaper, 1,000 times a batch."""
    if not isinstance(value, str) or not value:
        raise Refused(_("occurred_at must be a date and time in ISO 8601, e.g. 2026-11-30T10:15:00+08:00."))
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError as e:
        raise Refused(_("occurred_at must be a date and time in ISO 8601, e.g. 2026-11-30T10:15:00+08:00.")) from e
    if not EARLIEST_DATE <= parsed.date() <= LATEST_DATE:
        raise Refused(str(BOUNDS_MESSAGE).format(earliest=EARLIEST_DATE, latest=LATEST_DATE))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def parse_event(raw: object) -> EventInput:
    """One event of the batch, or Refused saying why it cannot be read."""
    if not isinstance(raw, dict):
        raise Refused(_("Each event must be a JSON object."))
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise Refused(_("kind must be one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)})
    occurred_at = _when(raw.get("occurred_at"))
    member = raw.get("member")
    if isinstance(member, int) and not isinstance(member, bool):
        member = str(member)
    number, phone = _text({"member": member}, "member", limit=40).strip(), ""
    if not number:
        try:
            phone = normalize_phone(_text(raw, "phone", limit=30))
        except DjangoValidationError as e:
            raise Refused(" ".join(e.messages)) from e
        if not phone:
            raise Refused(_("Give the member's CRM number (member) or mobile number (phone)."))
    return EventInput(
        event_id=_text(raw, "event_id", limit=64, required=True),
        kind=KINDS[kind],
        occurred_at=occurred_at,
        number=number,
        phone=phone,
        sku=_text(raw, "sku", limit=40),
        category=_category(raw),
    )


class EventSerializer(serializers.Serializer):
    """For the schema only: parse_event reads the events."""

    event_id = serializers.CharField(max_length=64, help_text="Your id for the event; resending it is harmless.")
    kind = serializers.ChoiceField(choices=list(KINDS))
    occurred_at = serializers.DateTimeField(
        help_text="When it happened. Refused past the retention (CRM_BEHAVIOUR_RETENTION_MONTHS) or over a day ahead."
    )
    member = serializers.CharField(required=False, help_text="CRM number; or give phone instead.")
    phone = serializers.CharField(required=False, help_text="Mobile number, when no CRM number is given.")
    sku = serializers.CharField(required=False, help_text="The product; needed for all kinds but category_view.")
    category = serializers.CharField(
        required=False,
        help_text="A category's id or name; needed for category_view (product events take the product's).",
    )


class BatchSerializer(serializers.Serializer):
    events = EventSerializer(many=True, max_length=MAX_BATCH)


class EventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's place in the batch, from 0.")
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "refused"])
    reason = serializers.CharField(required=False, help_text="Why it was refused.")


class BatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = EventResultSerializer(many=True)


class EventsView(APIView):
    required_scopes = {"POST": Scope.EVENTS_WRITE}
    max_body_bytes = MAX_BATCH * 1024  # a batch may be bigger than other endpoints' bodies

    @extend_schema(
        operation_id="events_create",
        request=BatchSerializer,
        responses={200: BatchResultSerializer, **error_responses(400, 413)},
        summary="Post shop behaviour (views, favourites, cart additions)",
        description=(
            f"Up to {MAX_BATCH} events a batch, each with its own answer by index: accepted, duplicate (this "
            "event_id and occurred_at were posted before) or refused with the reason. 400 only for a body that "
            "is not a batch."
        ),
    )
    def post(self, request: Request) -> Response:
        events = request.data.get("events") if isinstance(request.data, dict) else None
        if not isinstance(events, list) or not events:
            raise serializers.ValidationError({"events": [_("Send a non-empty list of events.")]})
        if len(events) > MAX_BATCH:
            raise serializers.ValidationError(
                {"events": [_("Send at most %(max)s events a batch.") % {"max": MAX_BATCH}]}
            )
        parsed, results = [], [{"index": i} for i in range(len(events))]
        for index, raw in enumerate(events):
            try:
                parsed.append((index, parse_event(raw)))
            except Refused as e:
                results[index] |= {"status": "refused", "reason": str(e)}
        outcomes = behaviour_record(client_id=request.auth.pk, events=[event for _i, event in parsed])
        for (index, _event), outcome in zip(parsed, outcomes, strict=True):
            results[index]["status"] = str(outcome.status)
            if outcome.reason:
                results[index]["reason"] = outcome.reason
        counts = {
            status: sum(r["status"] == status for r in results) for status in ("accepted", "duplicate", "refused")
        }
        return Response({**counts, "results": results})
