from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from analytics import sections, segment_fields
        from analytics.services import scoring
        from customers.signals import customer_merged, customer_merging

        sections.register()
        segment_fields.register_fields()
        customer_merging.connect(scoring.scores_settle_merge, dispatch_uid="analytics.scores_settle_merge")
        customer_merged.connect(scoring.scores_after_merge, dispatch_uid="analytics.scores_after_merge")
