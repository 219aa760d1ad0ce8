"""Values about a member that apps contribute to message templates, e.g. analytics' recommended products.

Why a registry: marketing renders templates but may not import analytics (nor analytics marketing), as with segment
fields and the customer page's sections. An app registers a value from its AppConfig.ready(); the template engine
whitelists it, the editor lists it, and the sender loads it for a whole batch of members in one query, only when a
template names it.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class MemberValue:
    key: str  # the template variable's name
    label: Promise  # what it means, shown in the editor
    sample: object  # its value in previews
    load: Callable[[Sequence[int]], dict[int, object]]  # customer ids -> value, in one query; absent: empty


_values: dict[str, MemberValue] = {}


def register(value: MemberValue) -> None:
    """Keyed, so registering twice (tests, autoreload) replaces instead of duplicating."""
    _values[value.key] = value


def member_values() -> dict[str, MemberValue]:
    return dict(_values)


def used_in(*sources: str) -> list[str]:
    """The registered values these template texts mention (so a batch loads only what it will show)."""
    return [key for key in _values if any(key in source for source in sources)]


def load(keys: Iterable[str], customer_ids: Sequence[int]) -> dict[int, dict[str, object]]:
    """customer id -> {key: value} for the values named."""
    out: dict[int, dict[str, object]] = {}
    for key in keys:
        for customer_id, value in _values[key].load(customer_ids).items():
            out.setdefault(customer_id, {})[key] = value
    return out
