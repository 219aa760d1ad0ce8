"""How list endpoints page: numbered pages for short lists, a cursor for lists of members.

A segment can hold a million members: numbered pages would count them all on every page and make the
database skip ever more rows (OFFSET) the further a client reads. The member cursor carries the last CRM
number seen instead, so each page is one indexed range read, however deep.
"""

import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination

# A CRM number is at most a bigint: 18 digits stay inside it, so a forged cursor cannot overflow the query.
_POSITION = re.compile(r"\d{1,18}")


class NumberedPages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class MemberCursor(CursorPagination):
    """Members in CRM-number order; `next`/`previous` are links to follow, their cursor opaque."""

    ordering = "crm_number"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # DRF would pass any position in a hand-made cursor to the query, where text is a 500, not a 404.
        if cursor is not None and cursor.position is not None and not _POSITION.fullmatch(cursor.position):
            raise NotFound(self.invalid_cursor_message)
        return cursor
