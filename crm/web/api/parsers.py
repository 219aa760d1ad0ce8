"""The one parser of the API: JSON, checked at the edge for what would otherwise break deeper in.

- Size: at most API_MAX_BODY_BYTES (a batch endpoint sets its own `max_body_bytes`), refused with 413
  before the body is read. This parser is not a DRF JSONParser on purpose: for those DRF reads
  `request.body` first, and Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE there with its own
  HTML 400, before any parser can answer 413.
- Depth: at most MAX_JSON_DEPTH levels of arrays and objects, counted before decoding, so
  `[[[[...` cannot exhaust the recursion limit of the decoder or of the serializers.
- Text: no NUL (PostgreSQL cannot store it and refuses it in any query) and no unpaired surrogate
  (`"\\ud800"` decodes, but cannot be encoded to UTF-8 for the database), in any key or value.
"""

import json
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import renderers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import BaseParser, get_encoding
from rest_framework.utils.json import strict_constant

from crm.web.api.errors import NON_FIELD, too_large

# Our deepest body is a purchase: object > lines > line > value (3 levels); 20 leaves room for growth.
MAX_JSON_DEPTH = 20

# A string (to its closing quote, or to the end if unclosed: linear either way) or a bracket.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")


def nests_deeper_than(text: str, levels: int) -> bool:
    """Whether arrays and objects in this JSON text nest more than `levels` deep (strings do not count)."""
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > levels:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


def _unstorable(value) -> str | None:
    """Why some string in this decoded JSON cannot be stored, or None."""
    if isinstance(value, str):
        if _NUL in value:
            return _("Text may not contain the NUL character (\\u0000).")
        if _SURROGATE.search(value):
            return _("Text may not contain an unpaired surrogate (\\ud800 to \\udfff); send valid Unicode.")
        return None
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        if reason := _unstorable(item):
            return reason
    return None


def check_text(data) -> None:
    """400 naming the top-level field whose text (key or value, at any depth) the database cannot hold."""
    if not isinstance(data, dict):
        if reason := _unstorable(data):
            raise ValidationError({NON_FIELD: [reason]})
        return
    errors = {}
    for key, value in data.items():
        if reason := _unstorable(key):
            errors.setdefault(NON_FIELD, [reason])
        elif reason := _unstorable(value):
            errors[key] = [reason]
    if errors:
        raise ValidationError(errors)


class LimitedJSONParser(BaseParser):
    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = getattr(parser_context.get("view"), "max_body_bytes", None) or settings.API_MAX_BODY_BYTES
        request = parser_context.get("request")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            declared = 0
        if declared > limit:
            raise too_large(limit)
        raw = stream.read(limit + 1)  # one byte past the limit tells, whatever Content-Length said
        if len(raw) > limit:
            raise too_large(limit)
        encoding = get_encoding(parser_context)
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as e:
            raise ParseError(
                _("JSON parse error - the body is not valid %(encoding)s.") % {"encoding": encoding}
            ) from e
        if nests_deeper_than(text, MAX_JSON_DEPTH):
            raise ParseError(
                _("JSON parse error - arrays and objects may nest at most %(depth)s levels deep.")
                % {"depth": MAX_JSON_DEPTH}
            )
        try:
            data = json.loads(text, parse_constant=strict_constant)
        except json.JSONDecodeError as e:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": e}) from e
        except ValueError as e:  # NaN or Infinity, or an integer of thousands of digits
            raise ParseError(_("JSON parse error - a number is out of range.")) from e
        check_text(data)
        return data
