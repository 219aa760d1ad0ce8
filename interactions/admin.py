from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.lib.admin import ReadOnlyAdminMixin
from interactions import services
from interactions.models import (
    Interaction,
    Product,
    PurchaseStatsCheck,
    PurchaseWindows,
    Reminder,
    ReminderRule,
    Transaction,
    TransactionLine,
    UnmatchedMention,
)


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


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Money and ledgers change only through services (record, refund), never by editing rows."""


class TransactionLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TransactionLine
    extra = 0
    fields = ["product", "description", "quantity", "unit_price", "line_total"]
    readonly_fields = fields


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
        "flag_reason",
    ]
    list_filter = ["status", "channel", "source", "flagged"]
    search_fields = ["=id", "=customer__crm_number", "=external_ref", "store", "coupon_code"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    date_hierarchy = "occurred_at"
    inlines = [TransactionLineInline]
    show_full_result_count = False

    @admin.display(description=_("why flagged"))
    def flag_reason(self, obj):
        return obj.flag_reason_text


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "customer", "channel", "direction", "subject", "outcome", "satisfaction", "staff"]
    list_filter = ["channel", "direction", "outcome", "source", "satisfaction"]
    search_fields = ["=customer__crm_number", "subject", "=external_ref", "external_handle"]
    list_select_related = ["customer", "staff"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    """Configuration, like tiers: the form's full_clean() checks each kind has the parameters it needs."""

    list_display = ["name", "kind", "days", "min_tier", "max_score", "assignee_policy", "assignee", "active"]
    list_filter = ["kind", "active"]
    raw_id_fields = ["assignee"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "text", "active"]}),
        (_("Parameters"), {"fields": ["days", "min_tier", "max_score"]}),
        (_("Who gets the reminders"), {"fields": ["assignee_policy", "assignee"]}),
    ]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["due_at", "text", "customer", "assignee", "status", "source", "notified_at"]
    list_filter = ["status", "source", "rule"]
    search_fields = ["=customer__crm_number", "text", "assignee__username"]
    list_select_related = ["customer", "assignee"]
    date_hierarchy = "due_at"
    actions = ["cancel"]
    show_full_result_count = False

    @admin.action(description=_("Cancel the selected reminders"), permissions=["cancel"])
    def cancel(self, request, queryset):
        for reminder in queryset:
            services.reminder_cancel(reminder=reminder, actor=request.user)
        count = len(queryset)
        self.message_user(request, ngettext("%d reminder cancelled.", "%d reminders cancelled.", count) % count)

    def has_cancel_permission(self, request):
        return request.user.has_perm("interactions.change_reminder")


@admin.register(UnmatchedMention)
class UnmatchedMentionAdmin(admin.ModelAdmin):
    list_display = ["posted_at", "platform", "handle", "author_name", "assigned_to", "assigned_at"]
    list_filter = ["platform", ("assigned_at", admin.EmptyFieldListFilter)]
    list_select_related = ["assigned_to"]
    readonly_fields = [f.name for f in UnmatchedMention._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(PurchaseStatsCheck)
class PurchaseStatsCheckAdmin(ReadOnlyAdmin):
    """The nightly reconcile's runs: how many members it checked and how many rows it had to repair."""

    list_display = ["started_at", "finished_at", "checked", "repaired"]


@admin.register(PurchaseWindows)
class PurchaseWindowsAdmin(ReadOnlyAdmin):
    """The day the members' 30/90/365-day purchase columns are counted up to; segment rules read them only when
    it is today (the daily roll sets it)."""

    list_display = ["day", "rolled_at", "members"]
