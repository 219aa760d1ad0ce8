from django.urls import path

from customers import views_points

app_name = "points"

# Mounted under customers/<number>/points/ (crm/urls.py).
urlpatterns = [
    path("adjust/", views_points.points_adjust_view, name="adjust"),
    path("redeem/", views_points.points_redeem_view, name="redeem"),
]
