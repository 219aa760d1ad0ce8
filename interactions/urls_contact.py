from django.urls import path

from interactions import views_contact

app_name = "contact"

# Mounted under customers/<number>/interactions/ (crm/urls.py).
urlpatterns = [
    path("new/", views_contact.interaction_log_view, name="log"),
]
