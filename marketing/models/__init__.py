"""Marketing: segments (rules -> members) and coupons; campaigns and automations come next."""

from marketing.models.coupons import Coupon, CouponOffer, CouponStatus, DiscountKind
from marketing.models.segments import Segment, SegmentKind, SegmentMember

__all__ = ["Coupon", "CouponOffer", "CouponStatus", "DiscountKind", "Segment", "SegmentKind", "SegmentMember"]
