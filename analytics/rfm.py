"""RFM scores from recency, frequency and monetary measures: quintile edges, scores 1-5, and the grid's segment.

The measures (analytics/frames.py reads them): recency is the days since the member's last purchase, frequency
the orders in the window (365 days by default; a fully refunded order is not an order), monetary the net spend
in the window in integer cents (refunds deducted), so money stays exact.

Scores are by quintile of the members who bought at least once. The edges are the values at the 20th, 40th, 60th
and 80th percentiles (numpy's "lower" method: always a value some member has). A value's score is its quintile in
value order, and a value equal to an edge falls into the quintile below it; so equal values always score the same
(ties are never split by id or by chance), and where many members share a value (most have one order) some scores
go unused. Recency counts the other way: the fewest days score 5.

Because a score depends only on the edges, every chunk of a run scores its members against the same edges, and a
member scored later (after a merge) is scored against the run's edges too.
"""

import numpy as np

from analytics.models.rfm import RfmSegment

QUANTILES = (0.2, 0.4, 0.6, 0.8)


def rfm_edges(values: np.ndarray) -> list[float]:
    """The four quintile edges of `values`; none when nobody has bought yet."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return []
    return [float(v) for v in np.quantile(values, QUANTILES, method="lower")]


def rfm_score(values: np.ndarray, edges: list[float], *, higher_is_better: bool = True) -> np.ndarray:
    """1-5 per value: how many edges lie strictly below it, plus one (reversed for recency)."""
    values = np.asarray(values, dtype=float)
    if not edges:  # nobody had bought when the edges were taken: no ranking to place anyone in
        return np.ones(values.shape, dtype=np.int16)
    below = np.searchsorted(np.asarray(edges, dtype=float), values, side="left")  # edges < value
    score = (below + 1).astype(np.int16)
    return score if higher_is_better else (6 - score).astype(np.int16)


def fm_score(f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The grid's column: the mean of F and M, a half rounded up (models.rfm.FM_RULE)."""
    return ((np.asarray(f, dtype=np.int16) + np.asarray(m, dtype=np.int16) + 1) // 2).astype(np.int16)


def rfm_segments(r: np.ndarray, fm: np.ndarray, grid: dict[tuple[int, int], str]) -> np.ndarray:
    """The grid's segment for each (R, FM)."""
    table = np.full((6, 6), RfmSegment.NO_PURCHASE.value, dtype=object)
    for (row, column), segment in grid.items():
        table[row, column] = segment
    return table[np.asarray(r, dtype=int), np.asarray(fm, dtype=int)]
