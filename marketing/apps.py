from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from customers.signals import customer_merging
        from interactions import coupons
        from marketing import sections, services
        from marketing.services.coupons import CouponTill

        customer_merging.connect(services.segments_settle_merge, dispatch_uid="marketing.segments_settle_merge")
        coupons.register(CouponTill())
        sections.register()

        from marketing import channels
        from marketing.channels.email import EmailChannel

        channels.register(EmailChannel())
