from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from crm import views, views_import, views_notifications

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="customers:list"), name="home"),
    path("customers/", include("customers.urls")),
    path("customers/<int:number>/purchases/", include("interactions.urls")),
    path("customers/<int:number>/points/", include("customers.urls_points")),
    path("customers/<int:number>/interactions/", include("interactions.urls_contact")),
    path("", include("interactions.urls_followups")),
    path("notifications/", views_notifications.notifications_view, name="notifications"),
    path("notifications/read/", views_notifications.notifications_read_view, name="notifications_read"),
    path("import/", views_import.import_upload_view, name="import"),
    path("import/<str:token>/", views_import.import_mapping_view, name="import_mapping"),
    path("jobs/<int:job_id>/", views.job_detail_view, name="job_detail"),
    path("jobs/<int:job_id>/download/", views.job_download_view, name="job_download"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include("crm.api.urls")),
    path("mentions/", include("crm.api.urls_staff")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]
