"""ReportLab documents of the warehouse: pick list, express waybill, delivery note, retail invoice.

Chinese is drawn with an embedded CJK TrueType font committed beside this module
(fonts/wqy-microhei.ttc, WenQuanYi Micro Hei, Apache-2.0), so a bare machine prints the same.
Each renderer takes orders with their lines, components and products already loaded (see
``orders.services.fulfilment.orders_for_print``) and returns the PDF as bytes.
"""

from .common import FONT, register_fonts  # noqa: F401
