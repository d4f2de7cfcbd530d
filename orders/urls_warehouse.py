from django.urls import path

from . import views_warehouse as views

app_name = "warehouse"

urlpatterns = [
    path("", views.scan_page, name="scan"),
    path("api/order/", views.open_order, name="open_order"),
    path("api/scan/", views.scan_item, name="scan_item"),
    path("api/ship/", views.ship, name="ship"),
]
