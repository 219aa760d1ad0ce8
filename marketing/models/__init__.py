"""Marketing: segments (rules -> members); coupons, campaigns and automations come next."""

from marketing.models.segments import Segment, SegmentKind, SegmentMember

__all__ = ["Segment", "SegmentKind", "SegmentMember"]
