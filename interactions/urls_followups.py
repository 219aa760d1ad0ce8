from django.urls import path

from interactions import views_contact

app_name = "followups"

urlpatterns = [
    path("my-day/", views_contact.my_day_view, name="my_day"),
    path("reminders/<int:reminder_id>/done/", views_contact.reminder_done_view, name="done"),
    path("reminders/<int:reminder_id>/snooze/", views_contact.reminder_snooze_view, name="snooze"),
    path("interactions/reports/", views_contact.interaction_reports_view, name="reports"),
]
