from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.jobs import job_may_rerun, job_rerun
from crm.lib.admin import ReadOnlyAdminMixin
from crm.models import AuditArchive, AuditEvent, Job, Notification

# django-otp's own admin pages would show an admin anyone's authenticator key (its QR code) and let them add a
# device for someone else: a second factor is set up by its owner only, and reset with `manage.py reset_2fa`.
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)

admin.site.site_header = _("Member CRM administration")
admin.site.site_title = _("Member CRM")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "done", "total", "attempts", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["run_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Run again"), permissions=["view"])
    def run_again(self, request, queryset):
        """The job page's "run again", for the selected jobs this user may run again (crm.jobs.job_may_rerun)."""
        queued = refused = busy = 0
        for job in queryset:
            if not job_may_rerun(request.user, job):
                refused += 1
            elif job_rerun(job=job, actor=request.user):
                queued += 1
            else:
                busy += 1
        if queued:
            self.message_user(
                request, ngettext("%d job queued to run again.", "%d jobs queued to run again.", queued) % queued
            )
        if busy:
            self.message_user(
                request,
                ngettext("%d job is still queued or running.", "%d jobs are still queued or running.", busy) % busy,
                messages.WARNING,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%d job was started by someone else; you may not run it again.",
                    "%d jobs were started by someone else; you may not run them again.",
                    refused,
                )
                % refused,
                messages.ERROR,
            )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "text", "read_at"]
    list_filter = ["read_at"]
    search_fields = ["user__username", "text"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only for everyone, Admin included (and the database refuses changes anyway: migration 0008)."""

    list_display = ["at", "actor_name", "api_client", "ip", "action", "customer_id", "target"]
    list_filter = ["action"]
    search_fields = ["=actor_name", "=api_client", "=customer_id", "=target", "=ip"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(AuditArchive)
class AuditArchiveAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The archive files' manifests (crm.audit.audit_archive_old): read only, and append-only in the database."""

    list_display = ["created_at", "first_at", "last_at", "entries", "file", "sha256"]
    date_hierarchy = "last_at"
