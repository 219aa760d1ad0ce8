from django.urls import path

from marketing.views import automations, campaign_checks, campaigns, coupons, segments, sms, surveys, tracking

app_name = "marketing"

urlpatterns = [
    path("u/<str:token>/", tracking.unsubscribe_view, name="unsubscribe"),
    path("o/<str:token>/", tracking.opened_view, name="opened"),
    path("c/<str:token>/", tracking.clicked_view, name="clicked"),
    path("sms/inbound/", sms.sms_inbound_view, name="sms_inbound"),
    path("s/<str:token>/", surveys.survey_view, name="survey"),
    path("automations/", automations.automation_list_view, name="automation_list"),
    path("automations/<int:automation_id>/", automations.automation_update_view, name="automation_update"),
    path("automations/<int:automation_id>/message/", automations.automation_message_view, name="automation_message"),
    path("segments/", segments.segment_list_view, name="segment_list"),
    path("segments/new/", segments.segment_create_view, name="segment_create"),
    path("segments/upload/", segments.segment_upload_view, name="segment_upload"),
    path("segments/count/", segments.segment_count_view, name="segment_count"),
    path("segments/<int:segment_id>/", segments.segment_detail_view, name="segment_detail"),
    path("segments/<int:segment_id>/edit/", segments.segment_edit_view, name="segment_edit"),
    path("segments/<int:segment_id>/recount/", segments.segment_recount_view, name="segment_recount"),
    path("segments/<int:segment_id>/freeze/", segments.segment_freeze_view, name="segment_freeze"),
    path("segments/<int:segment_id>/export/", segments.segment_export_view, name="segment_export"),
    path("segments/<int:segment_id>/delete/", segments.segment_delete_view, name="segment_delete"),
    path("offers/", coupons.offer_list_view, name="offer_list"),
    path("offers/new/", coupons.offer_create_view, name="offer_create"),
    path("offers/<int:offer_id>/", coupons.offer_detail_view, name="offer_detail"),
    path("offers/<int:offer_id>/edit/", coupons.offer_edit_view, name="offer_edit"),
    path("offers/<int:offer_id>/issue/", coupons.offer_issue_segment_view, name="offer_issue_segment"),
    path("customers/<int:number>/coupons/new/", coupons.coupon_issue_view, name="coupon_issue"),
    path("customers/<int:number>/rewards/new/", coupons.reward_exchange_view, name="reward_exchange"),
    # Campaigns (the editor's pages).
    path("campaigns/", campaigns.campaign_list_view, name="campaign_list"),
    path("campaigns/new/", campaigns.campaign_create_view, name="campaign_create"),
    path("campaigns/check/", campaign_checks.campaign_template_check_view, name="campaign_template_check"),
    path("campaigns/<int:campaign_id>/", campaigns.campaign_detail_view, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/edit/", campaigns.campaign_edit_view, name="campaign_edit"),
    path("campaigns/<int:campaign_id>/progress/", campaigns.campaign_progress_view, name="campaign_progress"),
    path("campaigns/<int:campaign_id>/start/", campaigns.campaign_start_view, name="campaign_start"),
    path("campaigns/<int:campaign_id>/schedule/", campaigns.campaign_schedule_view, name="campaign_schedule"),
    path("campaigns/<int:campaign_id>/pause/", campaigns.campaign_pause_view, name="campaign_pause"),
    path("campaigns/<int:campaign_id>/resume/", campaigns.campaign_resume_view, name="campaign_resume"),
    path("campaigns/<int:campaign_id>/cancel/", campaigns.campaign_cancel_view, name="campaign_cancel"),
    path("campaigns/<int:campaign_id>/audience/", campaign_checks.campaign_audience_view, name="campaign_audience"),
    path("campaigns/<int:campaign_id>/preview/", campaign_checks.campaign_preview_view, name="campaign_preview"),
    path("campaigns/<int:campaign_id>/test/", campaign_checks.campaign_test_send_view, name="campaign_test_send"),
]

# Results (helper "results"): the page, and each of its tables as CSV.
from marketing.views import results as results_views  # noqa: E402 -- appended block, kept apart for the merge

urlpatterns += [
    path("campaigns/<int:campaign_id>/results/", results_views.campaign_results_view, name="campaign_results"),
    path(
        "campaigns/<int:campaign_id>/results/<slug:table>.csv",
        results_views.campaign_results_csv_view,
        name="campaign_results_csv",
    ),
]

# Marketing reports (helper "mkt"): every segment's figures and the campaign leaderboard, and one segment's report.
from marketing.views import reports as reports_views  # noqa: E402 -- appended block, kept apart for the merge

urlpatterns += [
    path("reports/", reports_views.reports_view, name="reports"),
    path("segments/<int:segment_id>/report/", reports_views.segment_report_view, name="segment_report"),
    path(
        "segments/<int:segment_id>/report/snapshot/",
        reports_views.segment_snapshot_view,
        name="segment_snapshot",
    ),
]
