"""django-import-export resources of inventory: the products file (docs/import-formats.md).

Import goes through ``inventory.imports.import_products`` (the same as the command); export
writes the same columns with their Chinese headers, so an exported file imports again.
"""

from django.utils.translation import gettext_lazy as _
from import_export.fields import Field

from config.importexport import ServiceImportResource

from .imports import PRODUCT_COLUMNS, import_products
from .models import Product


class ProductResource(ServiceImportResource):
    import_service = import_products
    import_columns = PRODUCT_COLUMNS
    preview_columns = {
        "product_code": _("product code"),
        "name": _("product name"),
        "barcode": _("barcode"),
        "unit": _("unit"),
        "spec": _("spec"),
        "weight_kg": _("weight (kg)"),
        "list_price": _("list price"),
        "style_code": _("style code"),
        "colour": _("colour"),
        "size": _("size"),
        "location": _("bin location"),
    }

    product_code = Field(attribute="code", column_name="商品编码")
    name = Field(attribute="name", column_name="商品名称")
    barcode = Field(attribute="barcode", column_name="条码")
    unit = Field(attribute="unit", column_name="单位")
    spec = Field(attribute="spec", column_name="规格")
    weight_kg = Field(attribute="weight_kg", column_name="重量")
    list_price = Field(attribute="list_price", column_name="零售价")
    style_code = Field(attribute="style_code", column_name="款号")
    colour = Field(attribute="colour", column_name="颜色")
    size = Field(attribute="size", column_name="尺码")
    location = Field(attribute="location", column_name="库位")

    class Meta:
        model = Product
        fields = (
            "product_code",
            "name",
            "barcode",
            "unit",
            "spec",
            "weight_kg",
            "list_price",
            "style_code",
            "colour",
            "size",
            "location",
        )
        export_order = fields
        name = _("products")
