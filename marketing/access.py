"""The one way campaign views load a campaign: 403 without the permission, 404 if there is no such campaign."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from marketing.models import Campaign, CampaignKind


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
