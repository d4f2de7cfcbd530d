"""Labels a scanner reads: the tracking number's Code 128 decodes from the rendered pages of
every label layout and of the handover list (pdftoppm + zxing-cpp)."""

import io

import pytest
from pypdf import PdfReader

from orders.models import Carrier, Order, TrackingNumber
from orders.pdf.handover import render_handover_list
from orders.services import printing, shipping, tracking, waves

from .barcodes import decode_pages

pytestmark = pytest.mark.django_db

MM = 72 / 25.4


def page_sizes_mm(pdf: bytes) -> list[tuple[int, int]]:
    return [
        (round(float(p.mediabox.width) / MM), round(float(p.mediabox.height) / MM))
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]


def pdf_text(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def three_orders(make_order, stocked_product):
    cup = stocked_product("保温杯")
    return [make_order([(cup, 1, "59.00")], receiver_name=f"收件人{i}") for i in range(3)]


@pytest.mark.parametrize(
    ("layout", "size"),
    [(Carrier.Layout.STANDARD, (100, 180)), (Carrier.Layout.ONE_PART, (76, 130))],
)
def test_every_label_layout_prints_a_tracking_barcode_a_scanner_reads(
    three_orders, carrier, worker, layout, size
):
    Carrier.objects.filter(pk=carrier.pk).update(waybill_layout=layout)
    wave = waves.create_wave(orders=three_orders, actor=worker)

    pdf = printing.print_waybills(wave=wave, actor=worker).pdf

    numbers = list(
        Order.objects.filter(pk__in=[o.pk for o in three_orders])
        .order_by("wave_item__position")
        .values_list("tracking_no", flat=True)
    )
    assert decode_pages(pdf) == [[n] for n in numbers]
    assert page_sizes_mm(pdf) == [size] * 3


def test_a_long_provider_number_still_fits_and_decodes_on_the_small_label(
    three_orders, carrier, worker
):
    Carrier.objects.filter(pk=carrier.pk).update(waybill_layout=Carrier.Layout.ONE_PART)
    order = three_orders[0]
    tracking.set_tracking_number(order=order, number="YT7512345678901234", actor=worker)

    pdf = printing.print_waybills(orders=[order], actor=worker).pdf

    assert decode_pages(pdf) == [["YT7512345678901234"]]


def test_the_one_part_label_carries_the_routing_data_of_the_number(three_orders, carrier, worker):
    Carrier.objects.filter(pk=carrier.pk).update(waybill_layout=Carrier.Layout.ONE_PART)
    order = three_orders[0]
    tracking.set_tracking_number(order=order, number="YT0000000000001", actor=worker)
    TrackingNumber.objects.filter(number="YT0000000000001").update(
        short_address="杭州 西湖",
        package_center="杭州集包中心",
        package_center_code="571",
        sort_code="300-W05 00",
    )

    (page,) = pdf_text(printing.print_waybills(orders=[order], actor=worker).pdf)

    for text in ("杭州 西湖", "571 杭州集包中心", "300-W05 00", "收件人0", "YT0000000000001"):
        assert text in page


def test_a_waybill_prints_buyer_text_as_text_not_markup(make_order, stocked_product, worker):
    cup = stocked_product("保温杯")
    order = make_order([(cup, 1, "59.00")], receiver_name="<b>王&五</b>", address="文三路<br/>1号")

    (page,) = pdf_text(printing.print_waybills(orders=[order], actor=worker).pdf)

    assert "<b>王&五</b>" in page and "文三路<br/>1号" in page


def verified(make_order, stocked_product, count):
    cup = stocked_product("保温杯")
    orders = []
    for i in range(count):
        order = make_order([(cup, 1, "59.00")])
        tracking.set_tracking_number(order=order, number=f"SF{2000000 + i}", actor=None)
        Order.objects.filter(pk=order.pk).update(status=Order.Status.VERIFIED)
        orders.append(order)
    return orders


@pytest.mark.parametrize("count", [3, 17])
def test_the_handover_list_has_a_barcode_per_parcel_the_count_and_signature_boxes(
    make_order, stocked_product, carrier, worker, count
):
    orders = verified(make_order, stocked_product, count)
    batch = shipping.create_handover_batch(carrier=carrier, actor=worker, orders=orders)

    pdf = render_handover_list(batch, batch_orders(batch))

    decoded = [code for page in decode_pages(pdf) for code in page]
    assert decoded == [o.tracking_no for o in batch_orders(batch)]
    text = "\n".join(pdf_text(pdf))
    assert batch.number in text and carrier.name in text
    assert f"共 {count} 件" in text
    assert "仓库交接人" in text and "快递员" in text
    assert "补打" not in text


def test_a_reprinted_handover_list_is_marked(make_order, stocked_product, carrier, worker):
    orders = verified(make_order, stocked_product, 2)
    batch = shipping.create_handover_batch(carrier=carrier, actor=worker, orders=orders)

    pdf = render_handover_list(batch, batch_orders(batch), reprint=True)

    assert "补打" in pdf_text(pdf)[0]
    assert [c for page in decode_pages(pdf) for c in page] == [
        o.tracking_no for o in batch_orders(batch)
    ]


def batch_orders(batch):
    return [
        item.order
        for item in batch.items.select_related("order", "order__shop").order_by("order__order_no")
    ]
