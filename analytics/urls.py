from django.urls import path

from analytics.views import dashboard, scoring

app_name = "analytics"

urlpatterns = [
    path("dashboard/", dashboard.dashboard_view, name="dashboard"),
    path("dashboard/figures/", dashboard.dashboard_tiles_view, name="dashboard_tiles"),
    path("dashboard/refresh/", dashboard.dashboard_refresh_view, name="dashboard_refresh"),
    path("dashboard/refresh/progress/", dashboard.dashboard_progress_view, name="dashboard_progress"),
    path("reports/categories/", dashboard.category_report_view, name="category_report"),
    path("scoring/", scoring.run_list_view, name="run_list"),
    path("scoring/start/", scoring.run_start_view, name="run_start"),
    path("scoring/<int:run_id>/", scoring.run_detail_view, name="run_detail"),
]
