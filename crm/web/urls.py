from functools import wraps

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.urls import URLPattern, include, path
from django.views.i18n import set_language

from crm.lib.webhooks import webhook_patterns
from crm.views import accounts, charts, home, imports, jobs, notifications
from crm.web import audit


def _provider_set_up(view):
    """A provider this install has no key for (anymail refuses to build its view) is not found, not a 500."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailConfigurationError:
            raise Http404 from None

    return wrapped


# Tracking events only: the CRM reads no inbound mail, so an inbound webhook would take posts for nothing.
anymail_tracking = [
    URLPattern(p.pattern, _provider_set_up(p.callback), p.default_args, p.name)
    for p in anymail_urls.urlpatterns
    if "inbound" not in p.name
]

urlpatterns = [
    path("", home.home_view, name="home"),
    path("", include("customers.urls")),
    path("", include("interactions.urls")),
    path("marketing/", include("marketing.urls")),
    path("analytics/", include("analytics.urls")),
    path("notifications/", notifications.notifications_view, name="notifications"),
    path("notifications/read/", notifications.notifications_read_view, name="notifications_read"),
    path("charts/<slug:key>.json", charts.chart_json_view, name="chart_json"),
    path("charts/<slug:key>.csv", charts.chart_csv_view, name="chart_csv"),
    path("import/", imports.import_upload_view, name="import"),
    path("import/template/<str:kind>.csv", imports.import_template_view, name="import_template"),
    path("import/<str:token>/", imports.import_mapping_view, name="import_mapping"),
    path("audit/", audit.audit_log_view, name="audit_log"),
    path("audit/archives/<int:archive_id>/", audit.audit_archive_download_view, name="audit_archive_download"),
    path("jobs/<int:job_id>/", jobs.job_detail_view, name="job_detail"),
    path("jobs/<int:job_id>/download/", jobs.job_download_view, name="job_download"),
    path("jobs/<int:job_id>/run-again/", jobs.job_rerun_view, name="job_rerun"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", accounts.two_factor_verify_view, name="two_factor_verify"),
    path("accounts/two-factor/set-up/", accounts.two_factor_enrol_view, name="two_factor_enrol"),
    path("api/", include("crm.web.api.urls")),
    # E-mail providers' tracking webhooks (delivered, bounced, opened...): marketing/receivers.py records them.
    # Each behind the webhook edge (rate per source, body size: crm/lib/webhooks.py).
    path("webhooks/anymail/", include((webhook_patterns(anymail_tracking), "anymail"))),
    # Public: the login page offers the language switch to visitors who are not signed in yet.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", jobs.healthz, name="healthz"),
]

# The database away is a 503 page (or JSON under /api/), anything else the 500 page.
handler500 = "crm.views.errors.server_error"
