from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")

    def ready(self):
        from crm.audit import connect_receivers
        from crm.roles import sync_roles

        post_migrate.connect(sync_roles, sender=self)
        connect_receivers()
