from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from customers.signals import customer_erased, customer_merging
        from interactions import coupons
        from marketing import activity, charts, data_requests, home, sections, services
        from marketing.services.coupons import CouponTill
        from marketing.services.erasures import marketing_settle_erasure
        from marketing.services.merges import messages_settle_merge

        customer_merging.connect(services.segments_settle_merge, dispatch_uid="marketing.segments_settle_merge")
        customer_merging.connect(messages_settle_merge, dispatch_uid="marketing.messages_settle_merge")
        customer_erased.connect(marketing_settle_erasure, dispatch_uid="marketing.marketing_settle_erasure")
        coupons.register(CouponTill())
        sections.register()
        data_requests.register()
        activity.register()
        home.register_panels()
        charts.register()

        from anymail.signals import tracking

        from marketing import channels, checks, receivers  # noqa: F401 -- checks registers itself
        from marketing.channels.email import EmailChannel
        from marketing.channels.sms import SmsChannel

        channels.register(EmailChannel())
        channels.register(SmsChannel())
        tracking.connect(receivers.tracking_received, dispatch_uid="marketing.tracking_received")
