from django.contrib import admin

from interactions import services
from interactions.models import Product, Transaction, TransactionLine


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "active"]
    list_filter = ["active", "category"]
    search_fields = ["=sku", "name"]
    list_select_related = ["category"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.product_save(
            product=obj,
            sku=data["sku"],
            name=data["name"],
            price=data["price"],
            category=data.get("category"),
            active=data.get("active", True),
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money and ledgers change only through services (record, refund), never by editing rows."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TransactionLineInline(admin.TabularInline):
    model = TransactionLine
    extra = 0
    fields = ["product", "description", "quantity", "unit_price", "line_total"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "occurred_at",
        "customer",
        "amount",
        "currency",
        "channel",
        "store",
        "status",
        "points_earned",
        "flagged",
    ]
    list_filter = ["status", "channel", "source", "flagged"]
    search_fields = ["=id", "=customer__crm_number", "=external_ref", "store", "coupon_code"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    date_hierarchy = "occurred_at"
    inlines = [TransactionLineInline]
    show_full_result_count = False
