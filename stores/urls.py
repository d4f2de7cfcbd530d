from django.urls import path

from . import views

app_name = "stores"

urlpatterns = [
    path("kiosk/", views.kiosk_home, name="kiosk"),
    path("kiosk/start/", views.kiosk_start, name="kiosk_start"),
    path("kiosk/api/scan/", views.kiosk_scan, name="kiosk_scan"),
    path("kiosk/api/style/<str:style_code>/", views.kiosk_style, name="kiosk_style"),
    path("kiosk/api/quote/", views.kiosk_quote, name="kiosk_quote"),
    path("kiosk/api/order/", views.kiosk_order, name="kiosk_order"),
    path("counter/", views.counter_home, name="counter"),
    path("counter/orders/", views.counter_orders, name="counter_orders"),
    path("counter/order/<str:order_no>/", views.counter_order, name="counter_order"),
    path(
        "counter/order/<str:order_no>/receipt.pdf",
        views.counter_receipt,
        name="counter_receipt",
    ),
    path("counter/return/<str:return_no>/", views.counter_return, name="counter_return"),
    path(
        "counter/order/<str:order_no>/<str:action>/",
        views.counter_action,
        name="counter_action",
    ),
]
