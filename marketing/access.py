"""The one way campaign and report views load their object: 403 without the permission, 404 if there is none."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from marketing.models import Campaign, CampaignKind, Segment

# Segment reports and the campaign leaderboard (crm/roles.py: Marketing and Manager).
REPORTS = "analytics.view_marketing_reports"


def get_campaign_for_user(
    user: AbstractBaseUser, campaign_id: int, *, perm: str = "marketing.view_campaign"
) -> Campaign:
    """The campaign (with its segment and offer), if `user` holds `perm`. Automations have their own pages."""
    if not user.has_perm(perm):
        raise PermissionDenied
    campaign = (
        Campaign.objects.select_related("segment", "offer", "created_by")
        .filter(pk=campaign_id, kind=CampaignKind.ONE_OFF)
        .first()
    )
    if campaign is None:
        raise Http404
    return campaign


def get_segment_for_report(user: AbstractBaseUser, segment_id: int) -> Segment:
    """The segment, if `user` may read the marketing reports (Marketing, Manager)."""
    if not user.has_perm(REPORTS):
        raise PermissionDenied
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise Http404
    return segment
