"""Segment rules: a JSON tree checked against the field registry and compiled to one ORM query.

The stored form (what the rule builder and the API send)::

    {"op": "and", "rules": [
        {"field": "points_balance", "operator": "gt", "value": 500},
        {"op": "or", "rules": [
            {"field": "province", "operator": "eq", "value": "浙江省"},
            {"field": "tags", "operator": "in", "value": [3, 7]}
        ]},
        {"op": "not", "rules": [{"field": "sms_consent", "operator": "eq", "value": false}]}
    ]}

A group's `op` is "and" (all of its rules hold), "or" (any holds) or "not" (none holds). A condition names a
registered field (crm.segment_fields), an operator that field allows, and a value of the field's kind: a
number, an amount, an ISO date, a text, a choice's value, true/false, a list for "in"/"not_in", [low, high] for
"between", a number of days for the relative dates, and nothing for "is_empty"/"is_set".

Nothing from the rule reaches SQL as text: fields come from the registry, operators from an enum, and values
are checked, typed and passed to the ORM as parameters. A rule that is malformed in any way raises RuleError,
whose message names the condition ("Condition 2.1 (Province): ..."), for a form error or an API 400.
"""

import datetime
import decimal
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils.translation import gettext as _

from crm.lib import crm_number
from crm.segment_fields import Kind, Operator, SegmentField, Value, segment_field

MAX_DEPTH = 5
MAX_CONDITIONS = 50
MAX_DAYS = 3660
MAX_TEXT = 100
GROUP_OPS = ("and", "or", "not")
# Names, cities and tags hold none of these: a value that does is a paste of markup or SQL, refused plainly.
SUSPICIOUS = re.compile(r"[<>;\x00-\x1f\x7f]|--|/\*|\*/", re.ASCII)


class RuleError(ValidationError):
    """A rule that cannot be compiled; the message names the condition."""


@dataclass(frozen=True)
class Condition:
    path: str  # "2.1": the second rule's first rule, as the builder numbers them
    field: SegmentField
    operator: Operator
    value: Value
    params: dict[str, int] = field(default_factory=dict)

    @property
    def value_text(self) -> str:
        values = self.value if isinstance(self.value, list) else [] if self.value is None else [self.value]
        labels = dict(self.field.choices()) if self.field.choices else {}
        labels |= {True: _("Yes"), False: _("No")} if self.field.kind == Kind.BOOLEAN else {}
        shown = [str(labels.get(v, v)) for v in values]
        text = " – ".join(shown) if self.operator == Operator.BETWEEN else ", ".join(shown)
        extra = [f"{p.label} {self.params[p.key]}" for p in self.field.params if p.key in self.params]
        return f"{text} ({', '.join(extra)})" if extra else text


@dataclass(frozen=True)
class Group:
    path: str
    op: str
    rules: tuple["Group | Condition", ...]


def rule_parse(tree: object) -> Group:
    """The checked tree, or RuleError naming the first problem."""
    if not isinstance(tree, dict):
        raise RuleError(_("A segment rule must be a group of conditions."))
    counter = [0]
    return _group(tree, path="", depth=1, counter=counter)


def rule_compile(tree: object) -> Q:
    """The Q on Customer that selects the members the rule describes."""
    return _q(rule_parse(tree))


def rule_conditions(group: Group) -> list[Condition]:
    out = []
    for node in group.rules:
        out += rule_conditions(node) if isinstance(node, Group) else [node]
    return out


@dataclass(frozen=True)
class Verdict:
    """One node of "why does this member match": whether it holds for the member, and the member's value."""

    path: str
    holds: bool
    condition: Condition | None = None
    group: Group | None = None
    children: tuple["Verdict", ...] = ()
    member_value: str = ""


def rule_explain(tree: object, *, queryset, customer_pk: int) -> Verdict | None:
    """Each condition's truth for one member, from one query; groups combined as the compiled query does.
    None when the member is not in `queryset` (not visible to the viewer)."""
    group = rule_parse(tree)
    conditions = rule_conditions(group)
    annotations = {
        f"c{i}": ExpressionWrapper(_condition_q(c), output_field=BooleanField()) for i, c in enumerate(conditions)
    }
    customer = queryset.filter(pk=customer_pk).annotate(**annotations).first()
    if customer is None:
        return None
    truths = {c.path: (bool(getattr(customer, f"c{i}")), c.field.value_for(customer)) for i, c in enumerate(conditions)}
    return _verdict(group, truths)


def _verdict(node: "Group | Condition", truths: dict[str, tuple[bool, str]]) -> Verdict:
    if isinstance(node, Condition):
        holds, value = truths[node.path]
        return Verdict(path=node.path, holds=holds, condition=node, member_value=value)
    children = tuple(_verdict(child, truths) for child in node.rules)
    holds = [c.holds for c in children]
    result = {"and": all(holds), "or": any(holds), "not": not any(holds)}[node.op]
    return Verdict(path=node.path, holds=result, group=node, children=children)


def _q(group: Group) -> Q:
    parts = [_q(node) if isinstance(node, Group) else _condition_q(node) for node in group.rules]
    if not parts:
        return Q()  # the empty top-level group: every member
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part if group.op in ("or", "not") else combined & part
    return ~combined if group.op == "not" else combined


def _condition_q(condition: Condition) -> Q:
    return condition.field.q(condition.operator, condition.value, condition.params)


def _group(node: dict, *, path: str, depth: int, counter: list[int]) -> Group:
    where = _("Group %(path)s") % {"path": path} if path else _("The rule")
    if depth > MAX_DEPTH:
        raise RuleError(_("%(where)s: groups may be nested at most %(max)d deep.") % {"where": where, "max": MAX_DEPTH})
    if set(node) - {"op", "rules"}:
        raise RuleError(_("%(where)s: a group has only “op” and “rules”.") % {"where": where})
    op, rules = node.get("op"), node.get("rules")
    if op not in GROUP_OPS:
        raise RuleError(_("%(where)s: combine rules with and, or or not.") % {"where": where})
    if not isinstance(rules, list):
        raise RuleError(_("%(where)s: “rules” must be a list.") % {"where": where})
    if not rules and path:
        raise RuleError(_("%(where)s is empty: add a condition or remove the group.") % {"where": where})
    parsed = []
    for i, child in enumerate(rules, start=1):
        child_path = f"{path}.{i}" if path else str(i)
        if isinstance(child, dict) and "op" in child:
            parsed.append(_group(child, path=child_path, depth=depth + 1, counter=counter))
        else:
            counter[0] += 1
            if counter[0] > MAX_CONDITIONS:
                raise RuleError(_("A segment may have at most %(max)d conditions.") % {"max": MAX_CONDITIONS})
            parsed.append(_condition(child, path=child_path))
    return Group(path=path, op=op, rules=tuple(parsed))


def _condition(node: object, *, path: str) -> Condition:
    where = _("Condition %(path)s") % {"path": path}
    if not isinstance(node, dict) or not isinstance(node.get("field"), str):
        raise RuleError(_("%(where)s: a condition names a field, an operator and a value.") % {"where": where})
    if not node["field"]:
        raise RuleError(_("%(where)s: choose a field.") % {"where": where})
    field = segment_field(node["field"])
    if field is None:
        raise RuleError(_("%(where)s: there is no field “%(field)s”.") % {"where": where, "field": node["field"][:40]})
    where = _("%(where)s (%(field)s)") % {"where": where, "field": field.label}
    known = {"field", "operator", "value", *(p.key for p in field.params)}
    if set(node) - known:
        raise RuleError(
            _("%(where)s: a condition has only %(keys)s.")
            % {"where": where, "keys": ", ".join(f"“{k}”" for k in sorted(known))}
        )
    params = {}
    for param in field.params:
        try:
            params[param.key] = _whole(
                node.get(param.key, param.default), low=param.low, high=param.high, what=_("a number")
            )
        except (TypeError, ValueError) as e:
            raise RuleError(_("%(where)s: %(problem)s") % {"where": where, "problem": e}) from None
    operators = field.allowed_operators()
    try:
        operator = Operator(node.get("operator"))
    except ValueError:
        operator = None
    if operator not in operators:
        raise RuleError(
            _("%(where)s: use one of: %(operators)s.")
            % {"where": where, "operators": ", ".join(str(op.label) for op in operators)}
        )
    try:
        value = _value(field, operator, node.get("value"))
    except (TypeError, ValueError) as e:
        raise RuleError(_("%(where)s: %(problem)s") % {"where": where, "problem": e}) from None
    return Condition(path=path, field=field, operator=operator, value=value, params=params)


def _value(field: SegmentField, operator: Operator, value: object) -> Value:
    """The value in the form the query takes; TypeError/ValueError with the reason a person can act on."""
    if operator in (Operator.IS_EMPTY, Operator.IS_SET):
        if value not in (None, "", []):
            raise ValueError(_("“%(operator)s” takes no value.") % {"operator": operator.label})
        return None
    if operator in (Operator.IN_LAST_DAYS, Operator.MORE_THAN_DAYS_AGO, Operator.IN_NEXT_DAYS):
        most = 366 if operator == Operator.IN_NEXT_DAYS else MAX_DAYS
        return _whole(value, low=1, high=most, what=_("a number of days"))
    if operator in (Operator.IN, Operator.NOT_IN):
        if not isinstance(value, list) or not value:
            raise ValueError(_("give a list of one or more values."))
        if len(value) > field.max_items:
            raise ValueError(_("give at most %(max)d values.") % {"max": field.max_items})
        return sorted({_scalar(field, v) for v in value}, key=str)
    if operator == Operator.BETWEEN:
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(_("give two values, the lowest and the highest."))
        low, high = (_scalar(field, v) for v in value)
        if low > high:
            raise ValueError(_("the first value must not be more than the second."))
        return [low, high]
    return _scalar(field, value)


def _scalar(field: SegmentField, value: object) -> Value:
    match field.kind:
        case Kind.NUMBER:
            if field.key == "crm_number":
                return _crm_number(value)
            return _whole(value, low=field.min_value, high=field.max_value, what=_("a whole number"))
        case Kind.DECIMAL:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise TypeError(_("give an amount, such as 199.00."))
            try:
                amount = decimal.Decimal(str(value).strip())
            except decimal.InvalidOperation:
                raise ValueError(_("give an amount, such as 199.00.")) from None
            if not amount.is_finite() or abs(amount) >= 10**10:
                raise ValueError(_("give an amount, such as 199.00."))
            return amount.quantize(decimal.Decimal("0.01"))
        case Kind.DATE:
            if not isinstance(value, str):
                raise TypeError(_("give a date as YYYY-MM-DD."))
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(_("give a date as YYYY-MM-DD.")) from None
        case Kind.TEXT:
            if not isinstance(value, str) or not value.strip():
                raise TypeError(_("give a text."))
            if len(value) > MAX_TEXT:
                raise ValueError(_("give at most %(max)d characters.") % {"max": MAX_TEXT})
            if SUSPICIOUS.search(value):
                raise ValueError(
                    _("the text holds characters that no name or place has (< > ; -- or control characters).")
                )
            return value.strip()
        case Kind.CHOICE | Kind.CHOICES:
            keys = {str(key): key for key, _label in field.choices()}
            if isinstance(value, bool) or not isinstance(value, int | str) or str(value) not in keys:
                raise ValueError(_("“%(value)s” is not one of the choices.") % {"value": str(value)[:40]})
            return keys[str(value)]
        case Kind.BOOLEAN:
            if not isinstance(value, bool):
                raise TypeError(_("give true or false."))
            return value
    raise TypeError(_("this field takes no value."))


def _whole(value: object, *, low: int | None, high: int | None, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(_("give %(what)s.") % {"what": what})
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(_("give %(what)s from %(low)s to %(high)s.") % {"what": what, "low": low, "high": high})
    return value


def _crm_number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(_("give CRM numbers."))
    try:
        number = crm_number.parse(str(value))
    except crm_number.InvalidCrmNumber:
        raise ValueError(
            _("%(number)s is not a valid CRM number: the check digit does not match.") % {"number": str(value)[:40]}
        ) from None
    if number is None:
        raise ValueError(_("“%(value)s” is not a CRM number.") % {"value": str(value)[:40]})
    return number
