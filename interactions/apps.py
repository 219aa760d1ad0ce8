from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionsConfig(AppConfig):
    name = "interactions"
    verbose_name = _("Purchases and contacts")

    def ready(self):
        from crm.importers import register
        from customers.signals import customer_merging
        from interactions import sections, sections_contact, services
        from interactions.imports import TRANSACTIONS

        sections.register()
        sections_contact.register()
        register(TRANSACTIONS)
        customer_merging.connect(services.reminders_settle_merge, dispatch_uid="interactions.reminders_settle_merge")
