"""/api/: version 1 of the integration API, and its OpenAPI schema."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.urls import path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication

from crm.web.api import events, interactions, members, rewards, segments, transactions, webhooks
from crm.web.api.auth import ApiTokenAuthentication, IntegrationOrSignedIn

app_name = "api"

schema_view = SpectacularAPIView.as_view(
    # Pinned: otherwise ?version= is copied into the Content-Disposition header (a line break there was a 500).
    api_version="1",
    authentication_classes=[ApiTokenAuthentication, SessionAuthentication],
    permission_classes=[IntegrationOrSignedIn],
)

# Browsable documentation for people signed in to the CRM; assets from drf-spectacular-sidecar.
docs = {"url_name": "api:schema", "authentication_classes": [SessionAuthentication]}
# Swagger UI and Redoc write <style> elements of their own (and Redoc starts a worker from a blob:): their pages,
# which show the schema and no member's data, allow that; scripts stay files (the split view serves Swagger's
# start-up script from its own URL instead of inline).
DOCS_CSP = settings.SECURE_CSP | {"style-src": [CSP.SELF, CSP.UNSAFE_INLINE], "worker-src": [CSP.SELF, "blob:"]}
swagger_view = csp_override(DOCS_CSP)(login_required(SpectacularSwaggerSplitView.as_view(**docs)))
redoc_view = csp_override(DOCS_CSP)(login_required(SpectacularRedocView.as_view(**docs)))

urlpatterns = [
    path("v1/members/", members.MembersView.as_view(), name="members"),
    path("v1/members/by-phone/", members.MemberByPhoneView.as_view(), name="member_by_phone"),
    path("v1/members/<str:number>/", members.MemberDetailView.as_view(), name="member"),
    path("v1/members/<str:number>/rewards/", rewards.MemberRewardsView.as_view(), name="member_rewards"),
    path("v1/rewards/", rewards.RewardsView.as_view(), name="rewards"),
    path("v1/segments/", segments.SegmentsView.as_view(), name="segments"),
    path("v1/segments/count/", segments.SegmentCountView.as_view(), name="segment_count"),
    path("v1/segments/<str:segment_id>/", segments.SegmentDetailView.as_view(), name="segment"),
    path("v1/segments/<str:segment_id>/members/", segments.SegmentMembersView.as_view(), name="segment_members"),
    path("v1/transactions/", transactions.TransactionsView.as_view(), name="transactions"),
    path("v1/interactions/", interactions.InteractionsView.as_view(), name="interactions"),
    path("v1/events/", events.EventsView.as_view(), name="events"),
    path("v1/webhooks/social-mention/", webhooks.SocialMentionWebhook.as_view(), name="social_mention"),
    path("schema/", schema_view, name="schema"),
    path("docs/", swagger_view, name="docs"),
    path("redoc/", redoc_view, name="redoc"),
]
