"""Marketing: segments (rules -> members), coupons and the rewards catalogue, campaigns and their messages."""

from marketing.models.automations import DAYS_LABELS, Automation, AutomationKind
from marketing.models.campaigns import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignVariant,
    Message,
    MessageStatus,
    MessageTemplate,
    SkipReason,
    WinnerMetric,
)
from marketing.models.coupons import Coupon, CouponOffer, CouponStatus, DiscountKind
from marketing.models.reports import SegmentSnapshot
from marketing.models.results import ResultsSnapshot
from marketing.models.rewards import RewardExchange, RewardItem, RewardKind
from marketing.models.segments import Segment, SegmentKind, SegmentMember

__all__ = [
    "DAYS_LABELS",
    "Automation",
    "AutomationKind",
    "Campaign",
    "CampaignKind",
    "CampaignStatus",
    "CampaignVariant",
    "Message",
    "MessageStatus",
    "MessageTemplate",
    "SkipReason",
    "WinnerMetric",
    "ResultsSnapshot",
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
    "SegmentSnapshot",
]
