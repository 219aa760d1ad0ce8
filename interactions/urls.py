from django.urls import path

from interactions.views import contact, followups, mentions, purchases

app_name = "interactions"

# A customer's purchases and contacts hang under the customer's address; follow-ups are the user's own.
urlpatterns = [
    path("customers/<int:number>/purchases/new/", purchases.transaction_record_view, name="purchase_record"),
    path("customers/<int:number>/purchases/export/", purchases.transaction_export_view, name="purchase_export"),
    path(
        "customers/<int:number>/purchases/<int:transaction_id>/refund/",
        purchases.transaction_refund_view,
        name="purchase_refund",
    ),
    path("customers/<int:number>/interactions/new/", contact.interaction_log_view, name="interaction_log"),
    path("interactions/reports/", contact.interaction_reports_view, name="reports"),
    path("my-day/", followups.my_day_view, name="my_day"),
    path("reminders/<int:reminder_id>/done/", followups.reminder_done_view, name="reminder_done"),
    path("reminders/<int:reminder_id>/snooze/", followups.reminder_snooze_view, name="reminder_snooze"),
    path("mentions/", mentions.mention_queue_view, name="mention_queue"),
    path("mentions/<int:mention_id>/assign/", mentions.mention_assign_view, name="mention_assign"),
]
