"""Marketing: segments (rules -> members), coupons and the rewards catalogue; campaigns and automations next."""

from marketing.models.coupons import Coupon, CouponOffer, CouponStatus, DiscountKind
from marketing.models.rewards import RewardExchange, RewardItem, RewardKind
from marketing.models.segments import Segment, SegmentKind, SegmentMember

__all__ = [
    "Coupon",
    "CouponOffer",
    "CouponStatus",
    "DiscountKind",
    "RewardExchange",
    "RewardItem",
    "RewardKind",
    "Segment",
    "SegmentKind",
    "SegmentMember",
]
