from django.urls import path

from customers.views import bulk, customers, merge, points, privacy

app_name = "customers"

urlpatterns = [
    path("customers/", customers.customer_list_view, name="list"),
    path("customers/new/", customers.customer_create_view, name="create"),
    path("customers/export/", customers.customer_export_view, name="export"),
    path("customers/bulk/", bulk.customer_bulk_view, name="bulk"),
    path("customers/duplicates/", merge.duplicates_view, name="duplicates"),
    path("customers/merge/", merge.merge_view, name="merge"),
    path("customers/lookup/", customers.customer_lookup_view, name="lookup"),
    path("customers/<int:number>/", customers.customer_detail_view, name="detail"),
    path("customers/<int:number>/reveal/", customers.customer_reveal_view, name="reveal"),
    path("customers/<int:number>/edit/", customers.customer_edit_view, name="edit"),
    path("customers/<int:number>/personal-data/", privacy.personal_data_view, name="personal_data"),
    path("customers/<int:number>/erase/", privacy.erase_view, name="erase"),
    path("customers/<int:number>/points/adjust/", points.points_adjust_view, name="points_adjust"),
    path("customers/<int:number>/points/redeem/", points.points_redeem_view, name="points_redeem"),
]
