from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.favicon import favicon
from dashboard.views import home

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin index is the home page (工作台) of the person signed in.
    path("admin/", admin.site.admin_view(home), name="home"),
    path("admin/", admin.site.urls),
    path("warehouse/", include("orders.urls_warehouse")),
    path("api/erp/v1/", include("erpbridge.urls")),
    path("store/", include("stores.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
