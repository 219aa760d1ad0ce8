from django.contrib import admin
from django.db.models import NOT_PROVIDED
from django.utils.translation import gettext_lazy as _

from crm.lib.admin import ReadOnlyAdminMixin
from customers import personal, services
from customers.models import (
    Category,
    ConsentEvent,
    Customer,
    MergeRecord,
    PointsEntry,
    Tag,
    Tier,
    TierChange,
)
from customers.services import personal as personal_services


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["channel", "granted", "method", "note", "recorded_by", "at"]

    def has_add_permission(self, request, obj=None):
        return False


def _filled_by_python(name: str) -> bool:
    return Customer._meta.get_field(name).db_default is NOT_PROVIDED


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    # Contacts masked in the list for everyone, as in the app's lists (customers.personal).
    list_display = [
        "crm_number",
        "name",
        "masked_mobile",
        "masked_email",
        "tier",
        "province",
        "city",
        "owner",
        "registered_on",
    ]
    list_filter = ["tier", "source", "gender", "email_opt_in", "sms_opt_in", "province", "tags", "erased_at"]
    search_fields = ["=crm_number", "=legacy_number", "name", "mobile", "email"]
    readonly_fields = [
        "crm_number",
        "points_balance",
        "email_opt_in",
        "sms_opt_in",
        "erased_at",
        "created_at",
        "updated_at",
    ]
    autocomplete_fields = ["owner"]
    list_select_related = ["tier", "owner"]
    filter_horizontal = ["tags", "preferred_categories"]
    inlines = [ConsentEventInline]
    show_full_result_count = False

    @admin.display(description=_("mobile phone"))
    def masked_mobile(self, obj):
        return personal.masked(obj, "mobile")

    @admin.display(description=_("e-mail"))
    def masked_email(self, obj):
        return personal.masked(obj, "email")

    @admin.display(description=_("birthday"))
    def masked_birthday(self, obj):
        return personal.masked(obj, "birthday")

    @admin.display(description=_("address"))
    def masked_address(self, obj):
        return personal.masked(obj, "address")

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj):
        return personal.masked(obj, "id_number")

    def get_exclude(self, request, obj=None):
        # The ID number is entered and revealed in the app (its form checks it, its page records a reveal); here
        # it is only ever shown masked. Without the permission, no personal field is on the form at all.
        hidden = ["id_type", "id_number"]
        if not personal.can_see(request.user):
            hidden += [f for f in personal.MASKED_FIELDS if f != "id_number"]
        return hidden

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        customer = self.get_object(request, object_id)
        if request.method == "GET" and customer is not None and personal.can_see(request.user):
            # The admin's form shows the contacts in clear, as the app's edit form does: recorded the same way.
            personal_services.personal_fields_opened(
                customer=customer, actor=request.user, fields=[f for f in personal.MASKED_FIELDS if f != "id_number"]
            )
        return response

    def has_delete_permission(self, request, obj=None):
        # No hard delete, for anyone: a customer's data goes by erasure (anonymised; sales totals stay). The
        # database refuses a DELETE anyway (migration 0016_erasure_and_no_hard_delete).
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.erased_at is not None:
            return False  # an erased record is not edited again: what is typed into it would be personal data
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), "masked_id_number"]
        if not personal.can_see(request.user):
            fields += ["masked_mobile", "masked_email", "masked_birthday", "masked_address"]
        if obj is None:
            # The database fills these on insert (the CRM number); before that there is nothing to show.
            return [f for f in fields if f.startswith("masked_") or _filled_by_python(f)]
        return fields

    def get_search_fields(self, request):
        if request.user.has_perm("customers.view_contact_details"):
            return self.search_fields
        # Searching by a contact one cannot see would reveal it a digit at a time.
        return [f for f in self.search_fields if f not in ("mobile", "email")]

    def save_model(self, request, obj, form, change):
        # One service call with the tags, so the admin leaves the same audit entry as the customer form.
        fields = dict(form.cleaned_data)
        if change:
            services.customer_update(customer=obj, actor=request.user, **fields)
        else:
            created = services.customer_create(actor=request.user, **fields)
            # The admin goes on with `obj` (log entry, redirect): make it the saved row.
            obj.pk = created.pk
            obj.refresh_from_db()
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # Tags and categories were saved by save_model's service call; only the inlines are left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "name_zh_hans", "name_en", "rank", "min_spend", "points_multiplier"]
    fields = ["name", "name_zh_hans", "name_en", "rank", "min_spend", "points_multiplier", "benefits"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_zh_hans", "name_en"]
    fields = ["name", "name_zh_hans", "name_en"]
    search_fields = ["name", "name_zh_hans", "name_en"]


class HistoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """History that services append to (consent, audit, merges, the points ledger, tier changes): the admin
    may look, and nobody, Admin included, may add, change or delete it there."""


class ReasonAdminMixin:
    """The stored reason code and parameters, shown as text in the admin user's language."""

    @admin.display(description=_("reason"))
    def reason(self, obj):
        return obj.reason_text


@admin.register(ConsentEvent)
class ConsentEventAdmin(HistoryAdmin):
    list_display = ["customer", "channel", "granted", "method", "recorded_by", "at"]
    list_filter = ["channel", "granted", "method"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer", "recorded_by"]


@admin.register(PointsEntry)
class PointsEntryAdmin(ReasonAdminMixin, HistoryAdmin):
    list_display = [
        "at",
        "customer",
        "kind",
        "points",
        "balance_after",
        "reason",
        "reference",
        "expires_on",
        "remaining",
    ]
    list_filter = ["kind", "reason_code"]
    search_fields = ["=customer__crm_number", "=reference"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(TierChange)
class TierChangeAdmin(ReasonAdminMixin, HistoryAdmin):
    list_display = ["at", "customer", "kind", "from_tier", "to_tier", "reason", "created_by"]
    list_filter = ["kind", "to_tier"]
    search_fields = ["=customer__crm_number"]
    list_select_related = ["customer", "from_tier", "to_tier", "created_by"]
    raw_id_fields = ["customer"]
    date_hierarchy = "at"


@admin.register(MergeRecord)
class MergeRecordAdmin(HistoryAdmin):
    list_display = ["merged_crm_number", "merged_name", "survivor", "merged_by", "at"]
    search_fields = ["=merged_crm_number", "merged_name"]
    raw_id_fields = ["survivor"]
    list_select_related = ["survivor", "merged_by"]
