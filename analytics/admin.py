from django.contrib import admin

from analytics.models import MemberScore, RfmGridCell, ScoringRun
from crm.lib.admin import ReadOnlyAdminMixin


@admin.register(RfmGridCell)
class RfmGridCellAdmin(admin.ModelAdmin):
    """The R × FM grid (analytics/models/rfm.py): an admin renames the segment of a cell; the next run uses it.
    Its 25 cells are fixed, so none is added or deleted."""

    list_display = ["r", "fm", "segment"]
    list_editable = ["segment"]
    list_filter = ["segment"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "as_of", "status", "members", "chunks_done", "chunks_total", "finished_at"]
    list_filter = ["status"]
    exclude = ["fitted"]


@admin.register(MemberScore)
class MemberScoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["customer", "segment", "r", "f", "m", "p_alive", "churn_probability", "predicted_value"]
    list_filter = ["segment"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    show_full_result_count = False
