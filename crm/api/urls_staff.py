from django.urls import path

from crm.api import views

app_name = "mentions"

# Mounted at mentions/ (crm/urls.py): a page for staff, not part of the JSON API.
urlpatterns = [
    path("", views.mention_queue_view, name="queue"),
    path("<int:mention_id>/assign/", views.mention_assign_view, name="assign"),
]
