from django.contrib import admin

from crm.lib.admin import ReadOnlyAdminMixin
from marketing import services
from marketing.models import Coupon, CouponOffer, RewardExchange, RewardItem, Segment


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
