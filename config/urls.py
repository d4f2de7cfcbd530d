from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("warehouse/", include("orders.urls_warehouse")),
    path("api/erp/v1/", include("erpbridge.urls")),
    path("store/", include("stores.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
