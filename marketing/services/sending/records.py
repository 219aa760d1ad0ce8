"""The writes a batch makes on its claimed rows, each one statement for many rows (one commit each: a commit
waits for the disk, so a row at a time would cap a worker at a few hundred messages a second).

The order that keeps "exactly once, or reported" (batch.py): a group's rows are marked `handed_at` and committed
before the first of them goes to the provider; their answers are recorded when the group is done, in the same
statement that marks the next group (record_and_mark). A worker that dies leaves its claim "sending": the sweep
reports the handed rows "unknown" and queues the others again.

Each write names the claim it belongs to (`lease`, the lease_until the claim wrote, unique to it): a worker that
stalled past its lease finds its rows queued again or claimed by another worker, and its late writes then match
nothing instead of putting another worker's rows back in the queue.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from psycopg2.extras import execute_values

from marketing.models import MessageStatus


@dataclass
class Answer:
    id: int
    status: str
    error: str = ""
    provider_id: str = ""
    sent_at: datetime.datetime | None = None
    address: str = ""
    language: str = ""
    coupon_id: int | None = None


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def skip(ids: list[int], reason: str, *, lease: datetime.datetime) -> None:
    _execute(
        "UPDATE marketing_message SET status = %s, skip_reason = %s"
        " WHERE id = ANY(%s::bigint[]) AND status = %s AND lease_until = %s",
        [MessageStatus.SKIPPED, reason, ids, MessageStatus.SENDING, lease],
    )


def mark_handed(ids: list[int], *, lease: datetime.datetime) -> set[int]:
    """From this commit on these rows may reach the provider: a lost worker's are "unknown", never sent again.
    The rows still held by this claim (only those may go)."""
    if not ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE marketing_message SET handed_at = %s"
            " WHERE id = ANY(%s::bigint[]) AND status = %s AND lease_until = %s RETURNING id",
            [timezone.now(), ids, MessageStatus.SENDING, lease],
        )
        return {row[0] for row in cursor.fetchall()}


# execute_values takes one placeholder (the VALUES list): the claim's lease goes in as a quoted literal.
_RECORD = """
    UPDATE marketing_message m SET status = v.status, error = v.error, provider_id = v.provider_id,
           sent_at = v.sent_at::timestamptz, address = v.address, language = v.language,
           coupon_id = v.coupon_id::bigint
    FROM (VALUES %s) AS v (id, status, error, provider_id, sent_at, address, language, coupon_id)
    WHERE m.id = v.id::bigint AND m.status IN ('sending', 'unknown') AND m.lease_until = {claim}::timestamptz
"""


def _values(answers: list[Answer]) -> list[tuple]:
    return [
        (a.id, str(a.status), a.error[:255], a.provider_id[:255], a.sent_at, a.address, a.language, a.coupon_id)
        for a in answers
    ]


def record(answers: list[Answer], *, lease: datetime.datetime) -> None:
    """The answers in one statement. A late answer for a row the sweep already called "unknown" is still the
    truth about it, so it is recorded too."""
    if not answers:
        return
    with connection.cursor() as cursor:
        claim = cursor.cursor.mogrify("%s", [lease]).decode()
        # psycopg2's own cursor: execute_values writes the VALUES list. The literal is its quoting of a datetime.
        execute_values(cursor.cursor, _RECORD.format(claim=claim), _values(answers), page_size=1000)
    answers.clear()


def record_and_mark(answers: list[Answer], ids: list[int], *, lease: datetime.datetime) -> set[int]:
    """record() the answers so far and mark_handed() the next group, in one statement: one round trip and one
    commit, and the answers are never later than the next group's mark. The rows still held by this claim."""
    if not answers:
        return mark_handed(ids, lease=lease)
    if not ids:
        record(answers, lease=lease)
        return set()
    with connection.cursor() as cursor:
        claim, now, group = (cursor.cursor.mogrify("%s", [value]).decode() for value in (lease, timezone.now(), ids))
        rows = execute_values(
            cursor.cursor,
            f"""
            WITH answered AS ({_RECORD.format(claim=claim)} RETURNING m.id)
            UPDATE marketing_message SET handed_at = {now}::timestamptz
            WHERE id = ANY({group}::bigint[]) AND status = 'sending' AND lease_until = {claim}::timestamptz
              AND id NOT IN (SELECT id FROM answered)
            RETURNING id
            """,  # noqa: S608 -- the literals are psycopg2's own quoting of a datetime and a list of ints
            _values(answers),
            page_size=len(answers),  # one statement, whatever the number of answers
            fetch=True,
        )
    answers.clear()
    return {row[0] for row in rows}


def release(ids: list[int], *, lease: datetime.datetime) -> int:
    """Claimed rows never handed over go back to the queue."""
    if not ids:
        return 0
    return _execute(
        """
        UPDATE marketing_message SET status = %s, lease_until = NULL, handed_at = NULL
        WHERE id = ANY(%s::bigint[]) AND status = %s AND lease_until = %s
        """,
        [MessageStatus.QUEUED, ids, MessageStatus.SENDING, lease],
    )
