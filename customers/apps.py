from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from crm.importers import register
        from customers import activity, data_requests, segment_fields  # noqa: F401 -- the first two register theirs
        from customers.imports import CUSTOMERS

        register(CUSTOMERS)
        segment_fields.register_fields()
