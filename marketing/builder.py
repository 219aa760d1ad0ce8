"""The rule builder's form: the rule tree as flat inputs, so a server-rendered page (with htmx) can edit it.

Each node posts its path (`n` = "", "1", "2", "2.1", ...). A group posts `op-<path>`; a condition posts
`field-<path>`, `operator-<path>` and `value-<path>` (`value2-<path>` for the top of "between"; several
`value-<path>` for a choice list). The builder turns that back into the tree exactly as typed, so a bad value is
shown again with its message rather than lost, and into the stored JSON that marketing.rules checks.
"""

import re
from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.lib import crm_number
from crm.segment_fields import Kind, Operator, SegmentField, segment_field, segment_fields
from marketing.rules import GROUP_OPS, MAX_CONDITIONS, MAX_DEPTH

LIST_SPLIT = re.compile(r"[,，;；\s]+")
_RELATIVE = (Operator.IN_LAST_DAYS, Operator.MORE_THAN_DAYS_AGO, Operator.IN_NEXT_DAYS)
_INTEGER = re.compile(r"-?\d{1,12}")


@dataclass
class Node:
    path: str = ""
    group: bool = True
    op: str = "and"
    children: list["Node"] = field(default_factory=list)
    field_key: str = ""
    operator: str = ""
    value: str = ""
    value2: str = ""
    values: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def depth(self) -> int:
        return self.path.count(".") + 1 if self.path else 0

    @property
    def field(self) -> SegmentField | None:
        return segment_field(self.field_key) if self.field_key else None

    def operators(self) -> list[tuple[str, str]]:
        return [(str(op), str(op.label)) for op in self.field.allowed_operators()] if self.field else []

    @property
    def input(self) -> str:
        """Which input the value takes: none, days, between, list, choices, choice, boolean, number, decimal,
        date or text."""
        f = self.field
        if f is None or not self.operator:
            return "none"
        op = self.operator
        if op in (Operator.IS_EMPTY, Operator.IS_SET):
            return "none"
        if op in _RELATIVE:
            return "days"
        if op == Operator.BETWEEN:
            return "between"
        if op in (Operator.IN, Operator.NOT_IN):
            return "choices" if f.kind in (Kind.CHOICE, Kind.CHOICES) else "list"
        if op == Operator.CONTAINS:
            return "text"
        return {Kind.CHOICE: "choice", Kind.BOOLEAN: "boolean"}.get(f.kind, str(f.kind))

    @property
    def html_type(self) -> str:
        return {Kind.NUMBER: "number", Kind.DECIMAL: "number", Kind.DATE: "date"}.get(self.field.kind, "text")

    def choices(self) -> list[tuple[str, str]]:
        return [(str(key), str(label)) for key, label in self.field.choices()] if self.field.choices else []

    def operator_label(self) -> str:
        return dict(self.operators()).get(self.operator, "")

    def value_display(self) -> str:
        """The value as the rule's summary shows it."""
        kind = self.input
        if kind == "between":
            return f"{self.value} – {self.value2}"
        if kind in ("choice", "choices"):
            labels = dict(self.choices())
            return ", ".join(labels.get(v, v) for v in (self.values if kind == "choices" else [self.value]))
        if kind == "boolean":
            return str(_("Yes") if self.value == "true" else _("No"))
        if kind == "days":
            return ngettext("%(n)s day", "%(n)s days", _count(self.value)) % {"n": self.value}
        return "" if kind == "none" else self.value

    def param_inputs(self) -> list[tuple[object, str]]:
        """(param, what was typed or its default) for the field's extra numbers."""
        return [(p, self.params.get(p.key, str(p.default))) for p in self.field.params] if self.field else []

    def conditions(self) -> int:
        return sum(child.conditions() for child in self.children) if self.group else 1


def _count(text: str) -> int:
    return int(text) if _INTEGER.fullmatch(text.strip()) else 0


def field_groups() -> list[tuple[str, list[SegmentField]]]:
    """The registered fields by their group, for the field dropdown."""
    groups: dict[str, list[SegmentField]] = {}
    for f in segment_fields():
        groups.setdefault(str(f.group), []).append(f)
    return list(groups.items())


def tree_from_post(data: QueryDict) -> Node:
    nodes: dict[str, Node] = {}
    for path in data.getlist("n"):
        if path in nodes or not re.fullmatch(r"(\d{1,2}(\.\d{1,2}){0,5})?", path):
            continue
        if path == "" or f"op-{path}" in data:
            node = Node(path=path, group=True, op=data.get(f"op-{path}", "and"))
        else:
            node = Node(
                path=path,
                group=False,
                field_key=data.get(f"field-{path}", ""),
                operator=data.get(f"operator-{path}", ""),
                value=data.get(f"value-{path}", ""),
                value2=data.get(f"value2-{path}", ""),
                values=data.getlist(f"value-{path}"),
            )
            node.params = {k[len("param-") : -len(path) - 1]: v for k, v in data.items() if _is_param(k, path)}
        nodes[path] = node
    root = nodes.get("") or Node()
    for path, node in nodes.items():
        if path:
            parent = nodes.get(path.rpartition(".")[0])
            if parent is not None and parent.group:
                parent.children.append(node)
    _settle(root)
    return root


def _is_param(key: str, path: str) -> bool:
    return key.startswith("param-") and key.endswith(f"-{path}") and len(key) > len("param--") + len(path)


def tree_from_rules(rules: object) -> Node:
    """The saved JSON as the builder shows it (the JSON was checked when saved)."""

    def build(item: dict) -> Node:
        if "op" in item:
            return Node(group=True, op=item.get("op", "and"), children=[build(c) for c in item.get("rules", [])])
        node = Node(group=False, field_key=item.get("field", ""), operator=item.get("operator", ""))
        node.params = {k: str(v) for k, v in item.items() if k not in ("field", "operator", "value")}
        value = item.get("value")
        if isinstance(value, list) and node.operator == Operator.BETWEEN:
            node.value, node.value2 = (_text(v) for v in value)
        elif isinstance(value, list):
            node.values = [_text(v) for v in value]
            node.value = ", ".join(_text(v, key=node.field_key) for v in value)
        elif value is not None:
            node.value = _text(value)
            node.values = [node.value]
        return node

    root = build(rules if isinstance(rules, dict) else {"op": "and", "rules": []})
    _settle(root)
    return root


def _text(value: object, *, key: str = "") -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if key == "crm_number" and isinstance(value, int):
        return crm_number.format_number(value)
    return str(value)


def rules_from_tree(node: Node) -> dict:
    """The JSON the rules module checks; values typed as far as they can be, the rest left for its message."""
    if node.group:
        return {"op": node.op, "rules": [rules_from_tree(child) for child in node.children]}
    out: dict = {"field": node.field_key, "operator": node.operator}
    f, kind = node.field, node.input
    for param in f.params if f else ():
        if param.key in node.params:
            out[param.key] = _typed(node.params[param.key], Kind.NUMBER)
    if f is None or kind == "none":
        return out
    if kind == "days":
        out["value"] = _typed(node.value, Kind.NUMBER)
    elif kind == "between":
        out["value"] = [_typed(node.value, f.kind), _typed(node.value2, f.kind)]
    elif kind == "choices":
        out["value"] = [v for v in node.values if v]
    elif kind == "list":
        out["value"] = [_typed(v, f.kind, key=f.key) for v in LIST_SPLIT.split(node.value) if v]
    else:
        out["value"] = _typed(node.value, f.kind, key=f.key)
    return out


def _typed(text: str, kind: Kind, *, key: str = "") -> object:
    text = text.strip()
    if kind == Kind.NUMBER and key != "crm_number" and _INTEGER.fullmatch(text):
        return int(text)
    if kind == Kind.BOOLEAN and text in ("true", "false"):
        return text == "true"
    return text


def tree_apply(root: Node, action: str) -> Node:
    """add-condition:<group path>, add-group:<group path>, remove:<path>; anything else changes nothing (a
    refresh after another field was chosen). Past the rules' limits an add does nothing; the rules say why."""
    verb, _, path = action.partition(":")
    target = _find(root, path)
    if target is None:
        return root
    if verb in ("add-condition", "add-group") and target.group and root.conditions() < MAX_CONDITIONS:
        if verb == "add-condition":
            target.children.append(Node(group=False))
        elif target.depth < MAX_DEPTH - 1:
            target.children.append(Node(group=True, op="or", children=[Node(group=False)]))
    elif verb == "remove" and path:
        parent = _find(root, path.rpartition(".")[0])
        parent.children = [child for child in parent.children if child is not target]
    _settle(root)
    return root


def _find(node: Node, path: str) -> Node | None:
    if node.path == path:
        return node
    for child in node.children:
        if found := _find(child, path):
            return found
    return None


def _settle(node: Node, path: str = "") -> None:
    """Number the nodes afresh, keep a chosen operator only if the field allows it, keep ops known."""
    node.path = path
    if node.group:
        node.op = node.op if node.op in GROUP_OPS else "and"
        for i, child in enumerate(node.children, start=1):
            _settle(child, f"{path}.{i}" if path else str(i))
    elif node.field is None:
        node.field_key = node.operator = ""
    elif node.operator not in dict(node.operators()):
        node.operator = node.operators()[0][0]


def tree_nodes(node: Node) -> list[Node]:
    """Every node, parents first: the hidden `n` inputs that carry the shape."""
    out = [node]
    for child in node.children:
        out += tree_nodes(child)
    return out
