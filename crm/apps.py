from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")

    def ready(self):
        from crm.audit import connect_receivers
        from crm.middleware import SessionIdleMiddleware
        from crm.roles import sync_roles

        post_migrate.connect(sync_roles, sender=self)
        connect_receivers()
        user_logged_in.connect(SessionIdleMiddleware.stamp_login, dispatch_uid="crm_session_idle_stamp")
