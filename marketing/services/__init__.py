"""Every write to marketing goes through here, one module per subject: segments and coupons."""

from marketing.services.coupons import (
    CouponRefused,
    coupon_issue,
    coupon_offer_save,
    coupons_issue_job,
    coupons_issue_parts,
    coupons_issue_to_segment,
)
from marketing.services.rewards import reward_exchange
from marketing.services.segments import (
    segment_count,
    segment_delete,
    segment_export,
    segment_freeze,
    segment_save,
    segment_upload,
    segments_settle_merge,
)

__all__ = [
    "CouponRefused",
    "coupon_issue",
    "coupon_offer_save",
    "coupons_issue_job",
    "coupons_issue_parts",
    "coupons_issue_to_segment",
    "reward_exchange",
    "segment_count",
    "segment_delete",
    "segment_export",
    "segment_freeze",
    "segment_save",
    "segment_upload",
    "segments_settle_merge",
]
