class ReadOnlyAdminMixin:
    """Rows that only services write (ledgers, money, history): admin may look, never add, edit or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
