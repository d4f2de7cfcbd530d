"""The offline ERP's API, mounted at /api/erp/v1/ (docs/erp-api.md)."""

from django.urls import path, re_path

from . import views

app_name = "erpbridge"

urlpatterns = [
    path("stock/incremental", views.stock_incremental, name="stock-incremental"),
    path("stock/full", views.stock_full, name="stock-full"),
    path("stock", views.stock, name="stock"),
    path("orders", views.orders, name="orders"),
    path("retail-batches", views.retail_batches, name="retail-batches"),
    path("retail-batches/<str:batch_id>/ack", views.retail_batch_ack, name="retail-batch-ack"),
    re_path(r"^(?P<rest>.*)$", views.unknown_path, name="unknown"),
]
