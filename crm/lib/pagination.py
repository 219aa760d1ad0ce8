"""A paginator for big lists: counts at most `cap` rows and always asks for a whole page.

An exact COUNT(*) over a million filtered rows costs more than the page itself, and
Django's Paginator shortens the last slice to the count (LIMIT 1 for one hit),
which can make Postgres walk a whole index to find that one row.
"""

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int = 1000, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        # Without ORDER BY: sorted, Postgres may walk the sort index through every row to count.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)
