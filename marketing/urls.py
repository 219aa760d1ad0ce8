from django.urls import path

from marketing.views import segments

app_name = "marketing"

urlpatterns = [
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
]
