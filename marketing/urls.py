from django.urls import path

from marketing import views

app_name = "marketing"

urlpatterns = [
    path("segments/", views.segment_list_view, name="segment_list"),
    path("segments/new/", views.segment_create_view, name="segment_create"),
    path("segments/upload/", views.segment_upload_view, name="segment_upload"),
    path("segments/count/", views.segment_count_view, name="segment_count"),
    path("segments/<int:segment_id>/", views.segment_detail_view, name="segment_detail"),
    path("segments/<int:segment_id>/edit/", views.segment_edit_view, name="segment_edit"),
    path("segments/<int:segment_id>/recount/", views.segment_recount_view, name="segment_recount"),
    path("segments/<int:segment_id>/freeze/", views.segment_freeze_view, name="segment_freeze"),
    path("segments/<int:segment_id>/export/", views.segment_export_view, name="segment_export"),
    path("segments/<int:segment_id>/delete/", views.segment_delete_view, name="segment_delete"),
]
