"""Message templates: Django template syntax, restricted to a whitelist of variables, tags and filters.

Why Django's engine and not our own format: marketers know `{{ name }}`, it escapes HTML parts, and its
errors carry a line number. It is restricted three ways, so a template cannot reach the database or run
arbitrary code:
- its own Engine whose only library is `ALLOWED_TAGS` and `ALLOWED_FILTERS` (no `load`, `include`, `url`,
  `debug`, `csrf_token`...);
- the context holds only plain values (strings, numbers, dates, lists of dicts of strings), never a model;
- `check()` refuses any variable not in `VARIABLES`, with its line, so an error shows in the editor and a
  saved template renders at send time.
"""

import datetime
from dataclasses import dataclass
from functools import cache, lru_cache

from django.template import Context, Engine, Library, Template, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import FilterExpression, Lexer, TokenType, Variable
from django.template.smartif import OPERATORS
from django.utils.text import smart_split
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.member_values import member_values

# The variables a template may use, with what they mean (shown in the editor) and a sample for previews.
VARIABLES: dict[str, tuple[str, object]] = {
    "name": (gettext_lazy("The member's name"), "张伟"),
    "crm_number": (gettext_lazy("CRM number"), "1000 0000 18"),
    "tier": (gettext_lazy("Tier"), "Gold"),
    "points": (gettext_lazy("Points balance"), 1280),
    "coupon_code": (gettext_lazy("Coupon code (when the campaign has an offer)"), "ABCD-EFGH"),
    "coupon_expiry": (gettext_lazy("Coupon valid until"), datetime.date(2027, 1, 31)),
    "unsubscribe_url": (gettext_lazy("Unsubscribe link (e-mail adds one if you leave it out)"), "https://…/u/…"),
    # Automations' occasions (marketing.occasion_context): empty in a campaign.
    "points_expiring": (gettext_lazy("Points expiry warning: the points that lapse"), 300),
    "points_expiring_on": (gettext_lazy("Points expiry warning: the day they lapse"), datetime.date(2027, 1, 31)),
    "survey_links": (
        gettext_lazy("Satisfaction survey: a link per score 1 to 5, each with .score and .url (use a for loop)"),
        [{"score": score, "url": f"https://…/s/{score}…"} for score in range(1, 6)],
    ),
}


def variables() -> dict[str, tuple[str, object]]:
    """VARIABLES and those other apps register (crm.member_values: e.g. recommended products)."""
    return VARIABLES | {key: (value.label, value.sample) for key, value in member_values().items()}


ALLOWED_TAGS = ("if", "for", "with", "firstof", "comment", "spaceless")
ALLOWED_FILTERS = (
    "capfirst", "cut", "date", "default", "default_if_none", "first", "floatformat", "join", "last", "length",
    "linebreaks", "linebreaksbr", "lower", "pluralize", "slice", "title", "truncatechars", "truncatewords",
    "upper", "yesno",
)  # fmt: skip

_KEYWORDS = {*OPERATORS, "in", "as", "reversed", "with", "only"}


class TemplateError(Exception):
    """A template that cannot be saved: what is wrong and on which line (1-based)."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self):
        if self.line is None:
            return self.message
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@cache
def _engine() -> Engine:
    engine = Engine(debug=True, libraries={}, string_if_invalid="")
    library = Library()
    for name in ALLOWED_TAGS:
        library.tags[name] = defaulttags.register.tags[name]
    for name in ALLOWED_FILTERS:
        library.filters[name] = defaultfilters.register.filters[name]
    # Replaces the default builtins (defaulttags, defaultfilters, loader_tags) with the whitelist.
    engine.template_builtins = [library]
    return engine


@lru_cache(maxsize=512)  # a campaign renders the same few sources for every member; a Template is reusable
def _compile(source: str) -> Template:
    try:
        return Template(source, engine=_engine())
    except TemplateSyntaxError as error:
        debug = getattr(error, "template_debug", None) or {}
        raise TemplateError(str(error.args[0]) if error.args else str(error), debug.get("line")) from None


def _names_in_tag(contents: str) -> tuple[list[str], set[str]]:
    """(expressions read, names the tag defines) of a block tag's contents, e.g. `for p in products`."""
    bits = list(smart_split(contents))
    name, args = bits[0], bits[1:]
    defined: set[str] = set()
    if name == "for" and "in" in args:
        at = args.index("in")
        defined = {n.strip(",") for n in args[:at] for n in n.split(",") if n.strip(",")} | {"forloop"}
        args = args[at + 1 :]
    elif name == "with":
        reads = []
        for arg in args:
            if "=" in arg:
                key, value = arg.split("=", 1)
                defined.add(key)
                reads.append(value)
            elif arg != "as":
                reads.append(arg)
        if "as" in args:  # legacy form: {% with value as name %}
            defined.add(args[-1])
            reads = args[: args.index("as")]
        args = reads
    return [a for a in args if a not in _KEYWORDS and a != "=="], defined


def _check_variables(source: str) -> None:
    known = variables()
    defined: set[str] = set()
    parser = _engine()  # filters named in an expression must parse with the whitelist library
    filters = parser.template_builtins[0].filters
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.VAR:
            expressions = [token.contents]
        elif token.token_type == TokenType.BLOCK and token.contents.split():
            expressions, names = _names_in_tag(token.contents)
            defined |= names
        else:
            continue
        for expression in expressions:
            try:
                parsed = FilterExpression(expression, _FilterParser(filters))
            except TemplateSyntaxError as error:
                raise TemplateError(str(error), token.lineno) from None
            if isinstance(parsed.var, Variable) and parsed.var.lookups:
                root = parsed.var.lookups[0]
                if root not in known and root not in defined:
                    raise TemplateError(
                        _("“%(name)s” is not a variable a message can use. It can use: %(names)s.")
                        % {"name": root, "names": ", ".join(known)},
                        token.lineno,
                    )


class _FilterParser:
    """The part of a template Parser that FilterExpression needs: finding a filter by name."""

    def __init__(self, filters: dict):
        self.filters = filters

    def find_filter(self, name: str):
        if name in self.filters:
            return self.filters[name]
        raise TemplateSyntaxError(_("“%(name)s” is not a filter a message can use.") % {"name": name})


_CLOSING = {f"end{name}" for name in ALLOWED_TAGS} | {"else", "elif", "empty"}


def _check_tags(source: str) -> None:
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.TEXT and ("{{" in token.contents or "{%" in token.contents):
            line = token.lineno + token.contents[: token.contents.find("{")].count("\n")
            raise TemplateError(_("A “{{” or “{%” is not closed."), line)
        if token.token_type == TokenType.BLOCK:
            name = (token.contents.split() or [""])[0]
            if name not in ALLOWED_TAGS and name not in _CLOSING:
                raise TemplateError(
                    _("“%(name)s” is not a tag a message can use. It can use: %(names)s.")
                    % {"name": name, "names": ", ".join(ALLOWED_TAGS)},
                    token.lineno,
                )


def check(source: str) -> None:
    """Raise TemplateError (with its line) unless `source` compiles, uses only whitelisted names, and renders
    with the sample values and with every value empty (`{{ points|first }}` compiles, then fails on a number)."""
    _check_tags(source)
    _compile(source)
    _check_variables(source)
    for values in (sample_context(), {}):
        _render_part(source, values, autoescape=True)


def _render_part(source: str, values: dict, *, autoescape: bool) -> str:
    if not source:
        return ""
    context = {name: values.get(name, "") for name in variables()}
    try:
        return _compile(source).render(Context(context, autoescape=autoescape))
    except TemplateError:
        raise
    except Exception as error:  # a filter given a value it cannot take: the message fails, not the batch
        raise TemplateError(_("The message cannot be written: %(error)s") % {"error": error}, None) from None


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: str


def render(*, subject: str, body: str, html: str, context: dict) -> Rendered:
    """The three parts for one member. `context` holds plain values for (some of) VARIABLES' names."""
    return Rendered(
        subject=" ".join(_render_part(subject, context, autoescape=False).split()),
        body=_render_part(body, context, autoescape=False),
        html=_render_part(html, context, autoescape=True),
    )


def sample_context() -> dict:
    return {name: sample for name, (_label, sample) in variables().items()}


# SMS length. GSM 03.38's basic set and the characters that take two septets (the extension table).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"


@dataclass(frozen=True)
class SmsLength:
    characters: int
    parts: int
    encoding: str  # "GSM-7" or "UCS-2"
    per_part: int


def sms_length(text: str) -> SmsLength:
    """How many SMS a text takes: 160 GSM-7 characters in one (153 per part when split), or with any other
    character (Chinese, emoji) 70 UCS-2 characters in one (67 per part). UCS-2 counts UTF-16 code units."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    parts = 1 if units <= single else -(-units // multi)
    return SmsLength(characters=units, parts=parts, encoding=encoding, per_part=single if parts == 1 else multi)
