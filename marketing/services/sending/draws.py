"""The reproducible random draws: who is held out as control, and which A/B variant a member gets.

Each draw is the first 32 bits of md5("<purpose>:<campaign id>:<member id>") read as an unsigned number, so the
same campaign and member always draw the same, in Python (here) and in SQL (the freeze inserts millions of rows
in one statement). Different purposes give independent draws: being held out says nothing about the variant.
"""

import hashlib

CONTROL = "control"
TEST = "test"
VARIANT = "variant"


def _draw(purpose: str, campaign_id: int, customer_id: int) -> int:
    return int(
        hashlib.md5(f"{purpose}:{campaign_id}:{customer_id}".encode(), usedforsecurity=False).hexdigest()[:8], 16
    )


def draw_sql(purpose: str, campaign_id: int, member_column: str = "cu.id") -> str:
    """The same number as `_draw`, as a SQL expression (bigint) over a member id column."""
    text = f"'{purpose}:{int(campaign_id)}:' || {member_column}::text"
    return f"(('x' || substr(md5({text}), 1, 8))::bit(32)::bigint)"


def control_held_out(*, campaign_id: int, customer_id: int, percent: int) -> bool:
    """Whether the member is in the campaign's control group (percent out of 100)."""
    return _draw(CONTROL, campaign_id, customer_id) % 100 < percent


def variant_index(*, campaign_id: int, customer_id: int, test_percent: int, variants: int) -> int | None:
    """Which of `variants` (0-based) a member not held out gets now, or None when they wait for the A/B winner.

    With one variant, everyone gets it. With two to four, `test_percent` of the members are in the test, split
    evenly between the variants; the rest wait.
    """
    if variants <= 1:
        return 0
    if _draw(TEST, campaign_id, customer_id) % 100 >= test_percent:
        return None
    return _draw(VARIANT, campaign_id, customer_id) % variants
