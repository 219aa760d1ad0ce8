from django.urls import path

from customers import views, views_merge

app_name = "customers"

urlpatterns = [
    path("", views.customer_list_view, name="list"),
    path("new/", views.customer_create_view, name="create"),
    path("export/", views.customer_export_view, name="export"),
    path("duplicates/", views_merge.duplicates_view, name="duplicates"),
    path("merge/", views_merge.merge_view, name="merge"),
    path("lookup/", views.customer_lookup_view, name="lookup"),
    path("<int:number>/", views.customer_detail_view, name="detail"),
    path("<int:number>/edit/", views.customer_edit_view, name="edit"),
]
