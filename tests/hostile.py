"""Hostile input for property tests: every outside input gets "no 500, nothing changed on error".

`hostile_text` mixes ordinary text with what has broken us before: NUL and other control
characters, huge strings, lone surrogates are left out (they cannot reach us through UTF-8).
`unchanged()` snapshots the row counts of every table that matters, so a test can assert that
an answer in the 4xx range wrote nothing.
"""

import contextlib
import datetime

from django.apps import apps
from django.db import transaction
from hypothesis import strategies as st

CONTROL = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\x7f"

hostile_char = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from(CONTROL),
    st.sampled_from("=+-@'\"<>&%;\\/|{}[]"),
)
hostile_text = st.one_of(
    st.text(hostile_char, max_size=40),
    st.text(hostile_char, min_size=1, max_size=5).map(lambda s: s * 2000),  # huge
    st.sampled_from(["\x00", "1000-0012\x00", "%00", "", " ", "9" * 400, "-1", "0", "1e309", "NaN"]),
)
hostile_date = st.one_of(
    st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)).map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "0000-00-00", "2026-02-30", "99999-01-01", "-1"]),
    hostile_text,
)
hostile_number = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["-1", "0", "1e309", "NaN", "inf", "9" * 40, "0x10", "1.5"]),
    hostile_text,
)


def deep_json(depth: int) -> str:
    return '{"lines": ' + "[" * depth + "]" * depth + "}"


# What a refused or hostile request may still write, by design: the audit trail records attempts (a failed
# sign-in, a page viewed, a form opened), refused ones too. Every test that changes data checks it on its own.
RECORDS_ATTEMPTS = {"crm.AuditEvent"}


def _watched_models():
    watched = ("customers", "interactions", "marketing", "api", "crm")
    return [m for m in apps.get_models() if m._meta.app_label in watched and m._meta.label not in RECORDS_ATTEMPTS]


def table_counts() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in _watched_models()}


@contextlib.contextmanager
def rolled_back():
    """Run one hypothesis example inside a savepoint that is always rolled back, so examples don't see each other."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
