from django.urls import path

from interactions import views

app_name = "interactions"

# Mounted under customers/<number>/purchases/ (crm/urls.py): purchases belong to a customer's page.
urlpatterns = [
    path("new/", views.transaction_record_view, name="record"),
    path("export/", views.transaction_export_view, name="export"),
    path("<int:transaction_id>/refund/", views.transaction_refund_view, name="refund"),
]
