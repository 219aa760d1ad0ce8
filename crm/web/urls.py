from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm.views import accounts, charts, home, imports, jobs, notifications

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
    path("jobs/<int:job_id>/", jobs.job_detail_view, name="job_detail"),
    path("jobs/<int:job_id>/download/", jobs.job_download_view, name="job_download"),
    path("jobs/<int:job_id>/run-again/", jobs.job_rerun_view, name="job_rerun"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", accounts.two_factor_verify_view, name="two_factor_verify"),
    path("accounts/two-factor/set-up/", accounts.two_factor_enrol_view, name="two_factor_enrol"),
    path("api/", include("crm.web.api.urls")),
    # E-mail providers' tracking webhooks (delivered, bounced, opened...): marketing/receivers.py records them.
    path("webhooks/anymail/", include("anymail.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", jobs.healthz, name="healthz"),
]
