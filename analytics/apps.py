from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from analytics import charts, data_requests, home, sections, segment_fields, selectors
        from analytics.aggregates import tracking
        from analytics.services import scoring
        from crm import breakdowns, member_values
        from customers.signals import customer_erased, customer_merged, customer_merging
        from interactions.signals import purchase_changed

        sections.register()
        data_requests.register()
        charts.register_charts()
        home.register_panel()
        breakdowns.register(breakdowns.Breakdown(key="rfm", label=_("RFM segment"), count=selectors.rfm_mix))
        segment_fields.register_fields()
        member_values.register(
            member_values.MemberValue(
                key="recommended_products",
                label=_("Recommended products, best first (a list: use a for loop, or |first)"),
                sample=["绿茶", "紫砂杯"],
                load=selectors.recommended_product_names,
            )
        )
        customer_merging.connect(scoring.scores_settle_merge, dispatch_uid="analytics.scores_settle_merge")
        customer_merged.connect(scoring.scores_after_merge, dispatch_uid="analytics.scores_after_merge")
        customer_erased.connect(scoring.scores_settle_erasure, dispatch_uid="analytics.scores_settle_erasure")
        # The dashboards' refresh recomputes the days a refund or a merge changed (analytics.aggregates.tracking).
        purchase_changed.connect(tracking.purchase_changed_mark, dispatch_uid="analytics.aggregates_purchase_changed")
        customer_merging.connect(tracking.merge_mark, dispatch_uid="analytics.aggregates_merge")
