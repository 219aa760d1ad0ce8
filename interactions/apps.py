from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionsConfig(AppConfig):
    name = "interactions"
    verbose_name = _("Purchases and contacts")

    def ready(self):
        from crm.importers import register
        from customers.signals import customer_erased, customer_merged, customer_merging
        from interactions import activity, data_requests, home, segment_fields, services
        from interactions.imports import TRANSACTIONS
        from interactions.sections import behaviour, contact, purchases

        purchases.register()
        contact.register()
        behaviour.register()
        data_requests.register()
        activity.register()
        register(TRANSACTIONS)
        customer_merging.connect(services.reminders_settle_merge, dispatch_uid="interactions.reminders_settle_merge")
        customer_merged.connect(services.purchase_stats_after_merge, dispatch_uid="interactions.purchase_stats")
        customer_erased.connect(services.contact_settle_erasure, dispatch_uid="interactions.contact_settle_erasure")
        segment_fields.register_fields()
        home.register_panels()
