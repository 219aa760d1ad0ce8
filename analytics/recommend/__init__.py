"""Next products to offer each member: item-to-item co-purchase ("members who bought this also bought").

Why item-to-item (Linden, Smith & York, "Amazon.com recommendations: item-to-item collaborative filtering", 2003)
rather than a factorisation: the work grows with the catalogue, not with the members (the fit is one sparse product
X.T @ X of the binary member x product matrix; scoring a member is their sparse row times the neighbour matrix), and
every pick explains itself: the bought product that contributed most and how many members bought both, which is the
reason shown on the customer's page ("bought together with X by 312 members").

Similarity is the cosine of the binary member x product matrix: together(i, j) / sqrt(buyers(i) * buyers(j)), so a
best-seller is not everyone's neighbour just for being bought often. Pairs bought together by fewer than
`min_together` members are noise and dropped; each product keeps its `top` best neighbours. A member's score for a
product is the sum of its similarities from the member's bought products; whatever the neighbours cannot fill is
filled from the most popular products (also for members with no history), which score 0.

Everything here is pure numpy/scipy: the lead's jobs read the pairs from Postgres, fit once and score members in
id-range chunks (`recommend_many`, about 10,000 members a call).
"""

from analytics.recommend.evaluation import hit_rate_at_k
from analytics.recommend.model import CoPurchase, Recommendation, co_purchase_fit
from analytics.recommend.scoring import reason_text, recommend, recommend_many

__all__ = [
    "CoPurchase",
    "Recommendation",
    "co_purchase_fit",
    "hit_rate_at_k",
    "reason_text",
    "recommend",
    "recommend_many",
]
