from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "crm.web.api"
    label = "api"
    verbose_name = _("API and integrations")

    def ready(self):
        from crm.web.api import schema  # noqa: F401 -- registers the token scheme with drf-spectacular
