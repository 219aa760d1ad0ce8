from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.parsers import JSONParser

from crm.api.errors import PayloadTooLarge


class LimitedJSONParser(JSONParser):
    """JSON with a size cap: DRF reads the body itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > limit:
            raise PayloadTooLarge(_("The request body may be at most %(limit)s bytes.") % {"limit": limit})
        return super().parse(stream, media_type, parser_context)
