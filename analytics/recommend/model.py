"""The co-purchase model: each product's nearest neighbours by cosine on the binary member x product matrix."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import pandas as pd
from django.utils.translation import gettext
from scipy import sparse


@dataclass
class CoPurchase:
    products: np.ndarray  # product ids known to the model
    buyers: dict[int, int]  # product -> members who bought it
    neighbours: dict[int, list[tuple[int, int, float]]]  # product -> [(other, together, similarity)], best first
    popular: list[int]  # product ids, most buyers first
    # Derived from the fields above (so a model rebuilt from stored neighbours scores the same): the neighbour lists
    # as a sparse product x product matrix, and their co-counts and sorted row * n + column keys aligned with it.
    similarity: sparse.csr_array = field(init=False, repr=False, compare=False)
    together_counts: np.ndarray = field(init=False, repr=False, compare=False)
    link_keys: np.ndarray = field(init=False, repr=False, compare=False)
    popularity_rank: np.ndarray = field(init=False, repr=False, compare=False)
    popular_index: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.products = distinct(np.asarray(self.products, dtype=np.int64))
        size = len(self.products)
        self.popular_index = self.index_of(self.popular)
        # Each product's place in `popular` (most buyers, then smaller id), one sort key for ties between scores.
        self.popularity_rank = np.full(size, size, dtype=np.int64)
        self.popularity_rank[self.popular_index[self.popular_index >= 0]] = np.flatnonzero(self.popular_index >= 0)
        lists = list(self.neighbours.items())
        lengths = np.array([len(items) for _, items in lists], dtype=np.int64)
        rows = np.repeat(self.index_of([product for product, _ in lists]), lengths)
        entries = list(chain.from_iterable(items for _, items in lists))
        cols = self.index_of([other for other, _, _ in entries])
        together = np.array([count for _, count, _ in entries], dtype=np.int64)
        similarity = np.array([value for _, _, value in entries], dtype=np.float64)
        if (rows < 0).any() or (cols < 0).any():
            raise ValueError(gettext("Every product in the neighbour lists must be among the model's products."))
        keys = rows * size + cols
        order = np.argsort(keys, kind="stable")
        indptr = np.searchsorted(rows[order], np.arange(size + 1))
        self.similarity = sparse.csr_array((similarity[order], cols[order], indptr), shape=(size, size))
        self.together_counts = together[order]
        self.link_keys = keys[order]

    def index_of(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Positions of product ids in `products`, -1 for products the model does not know."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        positions = np.searchsorted(self.products, ids)
        positions = np.minimum(positions, max(len(self.products) - 1, 0))
        known = (self.products[positions] == ids) if len(self.products) else np.zeros(len(ids), dtype=bool)
        return np.where(known, positions, -1)


@dataclass(frozen=True)
class Recommendation:
    product: int
    because_of: int | None  # the bought product that contributed most; None for a popularity pick
    together: int  # members who bought both (0 for a popularity pick)
    score: float


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. numpy 2.5's np.unique hashes, which takes seconds on millions of distinct keys."""
    ordered = np.sort(values, kind="stable")
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def within(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Whether each value is in `ordered` (sorted): a binary search, with no table the size of the key range."""
    if len(ordered) == 0:
        return np.zeros(np.shape(values), dtype=bool)
    positions = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return ordered[positions] == values


def codes(values: np.ndarray, *, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(code of each value, distinct values): pandas' hash table needs a third of np.unique's memory and time."""
    positions, uniques = pd.factorize(values, sort=sort)
    return positions.astype(np.int64, copy=False), np.asarray(uniques, dtype=np.int64)


def integer_ids(name: str, values: object) -> np.ndarray:
    """Ids as int64; floats or strings are refused rather than rounded or parsed."""
    array = np.asarray(values).reshape(-1)
    if array.size == 0:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(gettext("%(name)s must be integer ids.") % {"name": name})
    return array.astype(np.int64)


def co_purchase_fit(*, members: np.ndarray, products: np.ndarray, top: int = 20, min_together: int = 2) -> CoPurchase:
    """Learn each product's `top` neighbours from (member, product) pairs, one per purchase line.

    A member who bought a product several times counts once. Similarity: cosine on the binary member x product
    matrix, together(i, j) / sqrt(buyers(i) * buyers(j)); ties are broken by more members together, then the smaller
    product id. Pairs bought together by fewer than `min_together` members are dropped as noise.
    """
    members, products = integer_ids("members", members), integer_ids("products", products)
    if len(members) != len(products):
        raise ValueError(gettext("members and products must have the same length."))
    if top < 1 or min_together < 1:
        raise ValueError(gettext("top and min_together must be at least 1."))
    product_index, product_ids = codes(products, sort=True)
    member_index, member_ids = codes(members)
    size = len(product_ids)
    pairs = distinct(member_index * size + product_index)
    del product_index, member_index  # the large arrays go as soon as they are used: a fit may see 10,000,000 lines
    # The distinct pairs are sorted by member, then product: the CSR arrays directly, in 32 bits where they fit.
    index_type = np.int32 if len(pairs) < np.iinfo(np.int32).max else np.int64
    indptr = np.searchsorted(pairs, np.arange(len(member_ids) + 1) * size).astype(index_type)
    indices = (pairs % size).astype(np.int32)
    del pairs
    matrix = sparse.csr_array((np.ones(len(indices), dtype=np.int32), indices, indptr), shape=(len(member_ids), size))
    buyers = np.bincount(indices, minlength=size).astype(np.int64)
    together = (matrix.T.tocsr() @ matrix).tocoo()
    del matrix, indices, indptr
    keep = (together.row != together.col) & (together.data >= min_together)
    rows, cols, counts = together.row[keep], together.col[keep], together.data[keep].astype(np.int64)
    similarity = counts / np.sqrt(buyers[rows].astype(np.float64) * buyers[cols])
    order = np.lexsort((product_ids[cols], -counts, -similarity, rows))
    rows, cols, counts, similarity = rows[order], cols[order], counts[order], similarity[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    best = rank < top
    rows, cols, counts, similarity = rows[best], cols[best], counts[best], similarity[best]

    row_ids, col_ids = product_ids[rows].tolist(), product_ids[cols].tolist()
    neighbours: dict[int, list[tuple[int, int, float]]] = {}
    for product, other, count, value in zip(row_ids, col_ids, counts.tolist(), similarity.tolist(), strict=True):
        neighbours.setdefault(product, []).append((other, count, value))
    popular_order = np.lexsort((product_ids, -buyers))
    return CoPurchase(
        products=product_ids,
        buyers=dict(zip(product_ids.tolist(), buyers.tolist(), strict=True)),
        neighbours=neighbours,
        popular=product_ids[popular_order].tolist(),
    )
