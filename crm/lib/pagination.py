"""A paginator for big lists: counts at most `cap` rows and always asks for a whole page.

An exact COUNT(*) over a million filtered rows costs more than the page itself, and
Django's Paginator shortens the last slice to the count (LIMIT 1 for one hit),
which can make Postgres walk a whole index to find that one row.

Past the cap, a list that asks for it (`estimate=True`) takes the planner's estimate of the
rows (EXPLAIN, which plans without running), so it can offer page numbers for all of them;
the page says the number is an estimate, and a page past the real end is simply empty.
"""

import json

from django.core.paginator import Page, Paginator
from django.db import connections
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int = 1000, estimate: bool = False, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.estimate = estimate

    @cached_property
    def count(self) -> int:
        # Without ORDER BY: sorted, Postgres may walk the sort index through every row to count.
        exact = self.object_list.order_by()[: self.cap + 1].count()
        if exact > self.cap and self.estimate:
            return max(exact, self._planned_rows())
        return exact

    def _planned_rows(self) -> int:
        queryset = self.object_list.order_by()
        sql, params = queryset.query.sql_with_params()
        with connections[queryset.db].cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return int(plan[0]["Plan"]["Plan Rows"])

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)
