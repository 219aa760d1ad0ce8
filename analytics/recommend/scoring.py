"""Scoring members in chunks: their sparse rows times the neighbour matrix, then the best-sellers to fill up."""

from collections.abc import Collection, Mapping, Sequence
from itertools import chain

import numpy as np
from django.utils.translation import gettext, ngettext
from scipy import sparse

from analytics.recommend.model import CoPurchase, Recommendation, distinct, within


def expand(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of `rows`, the positions of its entries in a CSR matrix: (which of `rows`, position)."""
    counts = indptr[rows + 1] - indptr[rows]
    owner = np.repeat(np.arange(len(rows)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, indptr[rows][owner] + offsets


def top_k(
    model: CoPurchase, *, rows: int, bought: np.ndarray, blocked: np.ndarray, k: int, co_purchase: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The top k for `rows` members as (rows, k) arrays of product index, because-of index, together and score.

    `bought` and `blocked` are sorted unique keys row * n + product index (n = the model's products); blocked
    products are never picked. Empty slots (the catalogue ran out) hold -1. `co_purchase=False` gives the
    most-popular baseline.
    """
    size = len(model.products)
    picks = np.full((rows, k), -1, dtype=np.int64)
    because = np.full((rows, k), -1, dtype=np.int64)
    together = np.zeros((rows, k), dtype=np.int64)
    scores = np.zeros((rows, k), dtype=np.float64)
    filled = np.zeros(rows, dtype=np.int64)
    if size == 0:
        return picks, because, together, scores
    history = sparse.csr_array(
        (np.ones(len(bought)), (bought // size, bought % size)), shape=(rows, size), dtype=np.float64
    )
    if co_purchase and len(model.link_keys):
        candidates = history @ model.similarity
        cand_rows = np.repeat(np.arange(rows), np.diff(candidates.indptr))
        cand_cols, cand_scores = candidates.indices.astype(np.int64), candidates.data
        allowed = ~within(cand_rows * size + cand_cols, blocked)
        cand_rows, cand_cols, cand_scores = cand_rows[allowed], cand_cols[allowed], cand_scores[allowed]
        order = np.lexsort((model.popularity_rank[cand_cols], -cand_scores, cand_rows))
        cand_rows, cand_cols, cand_scores = cand_rows[order], cand_cols[order], cand_scores[order]
        rank = np.arange(len(cand_rows)) - np.searchsorted(cand_rows, cand_rows)
        chosen = rank < k
        cand_rows, cand_cols, cand_scores, rank = (
            cand_rows[chosen],
            cand_cols[chosen],
            cand_scores[chosen],
            rank[chosen],
        )
        picks[cand_rows, rank], scores[cand_rows, rank] = cand_cols, cand_scores
        filled = np.bincount(cand_rows, minlength=rows)

        # The reason: of the member's bought products, the one whose similarity to the pick is largest (on a tie,
        # the smaller product id: a row's products come in id order). Each pick has at least one bought product,
        # and `owner` is sorted, so a group's maximum is one reduceat rather than a sort.
        owner, position = expand(history.indptr, cand_rows)
        if len(owner):
            source = history.indices[position].astype(np.int64)
            keys = source * size + cand_cols[owner]
            found = np.minimum(np.searchsorted(model.link_keys, keys), len(model.link_keys) - 1)
            hit = model.link_keys[found] == keys
            link_similarity = np.where(hit, model.similarity.data[found], -1.0)
            starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            best = np.flatnonzero(link_similarity == np.maximum.reduceat(link_similarity, starts)[owner])
            first = best[np.r_[True, owner[best][1:] != owner[best][:-1]]]
            because[cand_rows[owner[first]], rank[owner[first]]] = source[first]
            together[cand_rows[owner[first]], rank[owner[first]]] = model.together_counts[found[first]]

    fill_popular(model, picks=picks, filled=filled, blocked=blocked, size=size)
    return picks, because, together, scores


def fill_popular(model: CoPurchase, *, picks: np.ndarray, filled: np.ndarray, blocked: np.ndarray, size: int) -> None:
    """Fill each member's empty slots, in place, with the most popular products not blocked nor already picked."""
    rows, k = picks.shape
    short = np.flatnonzero(filled < k)
    if len(short) == 0:
        return
    taken = picks[short]
    taken_keys = (short[:, None] * size + taken)[taken >= 0]
    unavailable = distinct(np.concatenate([blocked, taken_keys]))
    # Most members are short of only the first few popular products; a wider look is left to a loop below.
    head = model.popular_index[: min(size, 2 * k + 16)]
    free = ~within(short[:, None] * size + head[None, :], unavailable)
    need = (k - filled[short])[:, None]
    take = free & (np.cumsum(free, axis=1) <= need)
    slot_rows, slot_cols = np.nonzero(take)
    slots = filled[short][slot_rows] + np.cumsum(take, axis=1)[slot_rows, slot_cols] - 1
    picks[short[slot_rows], slots] = head[slot_cols]
    got = take.sum(axis=1)
    for row in short[(got < need[:, 0]) & (len(head) < size)].tolist():
        chosen = set(picks[row][picks[row] >= 0].tolist())
        lo, hi = np.searchsorted(blocked, [row * size, (row + 1) * size])
        chosen.update((blocked[lo:hi] - row * size).tolist())
        slot = int(np.count_nonzero(picks[row] >= 0))
        for product in model.popular_index.tolist():
            if slot == k:
                break
            if product not in chosen:
                picks[row, slot] = product
                slot += 1


def member_keys(model: CoPurchase, lists: Sequence[Collection[int]]) -> np.ndarray:
    """Sorted unique row * n + product index keys of per-member product lists; unknown products are left out."""
    lengths = np.fromiter((len(items) for items in lists), dtype=np.int64, count=len(lists))
    ids = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(lengths.sum()))
    index = model.index_of(ids)
    rows = np.repeat(np.arange(len(lists)), lengths)
    known = index >= 0
    return distinct(rows[known] * len(model.products) + index[known])


def recommend_many(
    model: CoPurchase,
    *,
    bought: Mapping[int, Sequence[int]],
    exclude: Mapping[int, Collection[int]],
    k: int = 5,
    allow_bought: bool = False,
) -> dict[int, list[Recommendation]]:
    """Up to k recommendations for each member in `bought` (and in `exclude`, as members with no history).

    Never a product in the member's `exclude`, nor (unless `allow_bought`) one the member bought; co-purchase
    picks first, best score first (ties in the order of `model.popular`: more buyers, then the smaller id), then
    popularity picks. Fewer than k only when the catalogue runs out. Products the model does not know (bought only
    after the fit) are ignored.
    """
    if k < 1:
        raise ValueError(gettext("k must be at least 1."))
    members = list(dict.fromkeys(chain(bought, exclude)))
    history = member_keys(model, [bought.get(member, ()) for member in members])
    blocked = member_keys(model, [exclude.get(member, ()) for member in members])
    if not allow_bought:
        blocked = distinct(np.concatenate([blocked, history]))
    picks, because, together, scores = top_k(model, rows=len(members), bought=history, blocked=blocked, k=k)
    counts = np.count_nonzero(picks >= 0, axis=1).tolist()  # picks fill each row from its first slot
    padded = np.append(model.products, 0)  # an empty slot (-1) reads the padding, and is never shown
    columns = zip(
        padded[picks].tolist(),
        np.where(because >= 0, padded[because], -1).tolist(),
        (because < 0).tolist(),
        together.tolist(),
        scores.tolist(),
        strict=True,
    )
    result = {}
    for member, count, (products, sources, popular, counts_together, values) in zip(
        members, counts, columns, strict=True
    ):
        result[member] = [
            Recommendation(
                product=products[slot],
                because_of=None if popular[slot] else sources[slot],
                together=counts_together[slot],
                score=values[slot],
            )
            for slot in range(count)
        ]
    return result


def recommend(
    model: CoPurchase, *, bought: Sequence[int], exclude: Collection[int] = (), k: int = 5, allow_bought: bool = False
) -> list[Recommendation]:
    """Up to k recommendations for one member; see `recommend_many`."""
    return recommend_many(model, bought={0: bought}, exclude={0: exclude}, k=k, allow_bought=allow_bought)[0]


def reason_text(recommendation: Recommendation, *, because_of_name: str = "") -> str:
    """The reason in words for the customer's page and campaign templates (the caller names the product)."""
    if recommendation.because_of is None:
        return gettext("Popular with other members")
    return ngettext(
        "Bought together with %(product)s by %(count)d member",
        "Bought together with %(product)s by %(count)d members",
        recommendation.together,
    ) % {"product": because_of_name or str(recommendation.because_of), "count": recommendation.together}
