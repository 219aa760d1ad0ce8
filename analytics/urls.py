from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("scoring/", views.run_list_view, name="run_list"),
    path("scoring/start/", views.run_start_view, name="run_start"),
    path("scoring/<int:run_id>/", views.run_detail_view, name="run_detail"),
]
