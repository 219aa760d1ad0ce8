from django.contrib import admin
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from crm.lib.admin import ReadOnlyAdminMixin
from customers import personal
from customers.models import ConsentChannel
from marketing import services
from marketing.models import (
    Campaign,
    CampaignVariant,
    Coupon,
    CouponOffer,
    Message,
    RewardExchange,
    RewardItem,
    Segment,
)


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Built on the segment pages, where the rules are checked; admin shows them."""

    list_display = ["name", "kind", "member_count", "counted_at"]
    search_fields = ["name"]


@admin.register(CouponOffer)
class CouponOfferAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "value", "min_spend", "valid_to", "issued_count", "active"]
    list_filter = ["active", "kind"]
    search_fields = ["name"]
    filter_horizontal = ["products", "categories"]

    def save_related(self, request, form, formsets, change):
        """Through the one service, as the offer pages save."""
        services.coupon_offer_save(
            offer=form.instance, products=form.cleaned_data["products"], categories=form.cleaned_data["categories"]
        )

    def save_model(self, request, obj, form, change):
        pass  # saved in save_related, with its products and categories, in one service call


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Issued and redeemed only through the coupon service."""

    list_display = ["code", "offer", "customer", "status", "valid_until", "issued_at"]
    list_filter = ["status", "offer"]
    search_fields = ["=code", "=customer__crm_number"]
    list_select_related = ["offer", "customer"]


@admin.register(RewardItem)
class RewardItemAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "points_price", "stock", "valid_to", "active"]
    list_filter = ["active", "kind"]
    search_fields = ["name"]


@admin.register(RewardExchange)
class RewardExchangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "customer", "item", "points", "coupon"]
    list_select_related = ["customer", "item", "coupon"]


# Campaigns are written on the campaign pages (marketing.services.campaigns checks every template) and sent by
# the engine; admin shows them, their variants and templates, and the message rows.
class CampaignVariantInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = CampaignVariant
    fields = ["label", "texts"]
    readonly_fields = ["label", "texts"]
    extra = 0

    @admin.display(description=_("templates"))
    def texts(self, variant):
        return format_html_join(
            "",
            "<p><strong>{}</strong> {}<br>{}</p>",
            ((t.get_language_display(), t.subject, linebreaksbr(t.body)) for t in variant.templates.all()),
        )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("templates")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "channel", "segment", "status", "send_at", "created_at"]
    list_filter = ["kind", "status", "channel"]
    search_fields = ["name"]
    list_select_related = ["segment"]
    inlines = [CampaignVariantInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["campaign", "customer", "occasion", "variant", "status", "skip_reason", "sent_at"]
    list_filter = ["status", "skip_reason"]
    search_fields = ["=customer__crm_number", "=provider_id"]
    list_select_related = ["campaign", "customer", "variant"]
    # A campaign can have a million rows: no exact count for the filters, the campaign chosen by id.
    show_full_result_count = False
    raw_id_fields = ["campaign", "customer", "variant", "coupon"]
    # Where it went, masked for everyone (customers.personal), as on the member's timeline.
    exclude = ["address"]
    readonly_fields = ["masked_address"]

    @admin.display(description=_("address"))
    def masked_address(self, obj):
        field = "email" if obj.campaign.channel == ConsentChannel.EMAIL else "mobile"
        return personal.mask_value(field, obj.address)
