"""django-import-export resources of channels: the SKU relation table (商品关系表).

Import goes through ``channels.services.import_sku_relations`` (the same as the command); export
writes one row per component with the Chinese headers of the contract, so it imports again.
"""

import tablib
from django.utils.translation import gettext_lazy as _

from config.importexport import ServiceImportResource

from .models import SkuComponent, SkuMapping
from .services import SKU_RELATION_COLUMNS, import_sku_relations

EXPORT_HEADERS = ["店铺", "平台商品编码", "商品编码", "数量"]


class SkuRelationResource(ServiceImportResource):
    import_service = import_sku_relations
    import_columns = SKU_RELATION_COLUMNS
    preview_columns = {
        "shop": _("shop"),
        "platform_sku": _("platform SKU"),
        "components": _("components"),
    }

    class Meta:
        model = SkuMapping
        fields = ("shop", "platform_sku")
        name = _("SKU relation table")

    def export(self, queryset=None, **kwargs):
        if queryset is None:
            queryset = SkuMapping.objects.all()
        components = (
            SkuComponent.objects.filter(mapping__in=queryset)
            .select_related("mapping__shop", "product")
            .order_by("mapping__shop__code", "mapping__platform_sku", "product__code")
        )
        dataset = tablib.Dataset(headers=EXPORT_HEADERS)
        for c in components:
            dataset.append(
                [
                    c.mapping.shop.code,
                    c.mapping.platform_sku,
                    c.product.code,
                    format(c.quantity.normalize(), "f"),
                ]
            )
        return dataset
