"""The harness's own arithmetic: multiples of the reference and the budgets judged in both forms.

bench/ is not in pytest.ini's testpaths (it is not the product); run with
`.venv/bin/pytest -q -p no:cacheprovider bench/tests`.
"""

from bench.measure import DETAIL, LIST, OPEN, Result, Scenario
from bench.report import misses


def result(group: str, *, median: float, p95: float, reference: tuple[float, float], queries=(5, 5)) -> Result:
    return Result(
        scenario=Scenario(group, f"a {group.lower()} page", ["/"]),
        median_ms=median,
        p95_ms=p95,
        queries=queries,
        slowest_sql_ms=1.0,
        slowest_sql="SELECT 1",
        reference_median_ms=reference[0],
        reference_p95_ms=reference[1],
    )


def test_multiples_divide_by_the_reference_timed_with_the_figure():
    r = result(LIST, median=30, p95=60, reference=(10, 12))

    assert r.median_multiple == 3
    assert r.p95_multiple == 5


def test_slow_machine_misses_the_ms_budget_but_meets_the_multiple():
    r = result(DETAIL, median=120, p95=137, reference=(25, 30))

    assert not r.meets_budget
    assert r.meets_multiple_budget  # 4.6× of a 6× budget


def test_multiple_budget_is_strict_like_the_ms_budget():
    assert not result(OPEN, median=9, p95=9, reference=(4, 4.5)).meets_multiple_budget  # exactly 2×
    assert result(OPEN, median=8, p95=8.9, reference=(4, 4.5)).meets_multiple_budget


def test_customer_page_with_a_varying_query_count_misses_only_the_ms_form():
    r = result(DETAIL, median=30, p95=40, reference=(10, 10), queries=(18, 21))

    assert not r.meets_budget
    assert r.meets_multiple_budget


def test_misses_are_named_in_both_forms():
    fast = result(LIST, median=20, p95=25, reference=(10, 10))
    slow = result(DETAIL, median=120, p95=137, reference=(15, 20))

    in_ms, _, in_multiples = misses([fast, slow])

    assert in_ms == "Budgets missed in ms: 1 of 2: a customer page page (137.0 ms, budget 100 ms)."
    assert in_multiples == (
        "Budgets missed as multiples of the reference: 1 of 2: a customer page page (6.8×, budget 6×)."
    )


def test_no_miss_says_so():
    lines = misses([result(LIST, median=20, p95=25, reference=(10, 10))])

    assert lines[0] == "Budgets missed in ms: 0 of 1."
    assert lines[2] == "Budgets missed as multiples of the reference: 0 of 1."
