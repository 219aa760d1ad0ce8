"""RFM scores from edges, by the documented rule (analytics/rfm.py): a value equal to an edge falls in the quintile
below it, so equal values score alike; recency counts the other way."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from analytics.models.rfm import DEFAULT_GRID, RfmSegment
from analytics.rfm import fm_score, rfm_score, rfm_segments

EDGES = [2.0, 4.0, 6.0, 8.0]


def test_values_between_and_on_edges_take_the_quintile_below():
    assert rfm_score(np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), EDGES).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_recency_scores_the_fewest_days_highest():
    assert rfm_score(np.array([1, 2, 3, 9, 10]), EDGES, higher_is_better=False).tolist() == [5, 5, 4, 1, 1]


def test_heavy_ties_leave_scores_unused_but_never_split_equal_values():
    # most members bought once: the edges are 1, 1, 1, 2 and a one-order member scores 1, two orders 4
    edges = [1.0, 1.0, 1.0, 2.0]
    assert rfm_score(np.array([1, 1, 1, 2, 3]), edges).tolist() == [1, 1, 1, 4, 5]


def test_fm_is_the_mean_of_f_and_m_a_half_rounded_up():
    assert fm_score(np.array([1, 1, 2, 5, 4]), np.array([1, 2, 2, 4, 5])).tolist() == [1, 2, 2, 5, 5]


def test_the_default_grid_names_every_segment_once_at_least():
    grid = {(r, fm): seg for r, row in DEFAULT_GRID.items() for fm, seg in enumerate(row, 1)}
    assert len(grid) == 25
    named = set(grid.values())
    assert named == set(RfmSegment) - {RfmSegment.NO_PURCHASE}
    assert rfm_segments(np.array([5, 1, 3]), np.array([5, 1, 3]), grid).tolist() == [
        RfmSegment.CHAMPIONS,
        RfmSegment.LOST,
        RfmSegment.NEED_ATTENTION,
    ]


@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=200))
def test_scores_are_one_to_five_and_never_fall_as_the_value_rises(values):
    edges = sorted(float(v) for v in np.quantile(values, [0.2, 0.4, 0.6, 0.8], method="lower"))
    ordered = np.sort(np.array(values))
    scores = rfm_score(ordered, edges)
    assert scores.min() >= 1 and scores.max() <= 5
    assert (np.diff(scores) >= 0).all()
    equal = ordered[:-1] == ordered[1:]
    assert (scores[:-1][equal] == scores[1:][equal]).all()
