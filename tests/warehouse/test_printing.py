import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from orders.models import Order, OrderEvent, PrintRecord, TrackingNumber, Wave
from orders.services import kernel, printing, waves

from .conftest import hold

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def two_orders(make_order, stocked_product):
    cup = stocked_product("保温杯", barcode="6901234567892", spec="500ml 白色")
    tea = stocked_product("西湖龙井茶", barcode="6909876543210", spec="250克")
    first = make_order([(cup, 2, "59.00"), (tea, 1, "128.00")], receiver_name="李四")
    second = make_order([(cup, 1, "59.00")], receiver_name="王五")
    return first, second, cup, tea


def test_printing_a_wave_assigns_numbers_from_the_pool_and_moves_orders_to_printed(
    two_orders, carrier, worker
):
    first, second, *_ = two_orders
    wave = waves.create_wave(orders=[first, second], actor=worker)

    outcome = printing.print_waybills(wave=wave, actor=worker)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Order.Status.PRINTED, Order.Status.PRINTED)
    assert (first.tracking_no, second.tracking_no) == ("SF1000000", "SF1000001")
    assert first.printed_at is not None
    wave.refresh_from_db()
    assert wave.status == Wave.Status.PRINTED
    assert outcome.record.reprint is False
    assert OrderEvent.objects.filter(order=first, kind="document_printed").count() == 1


def test_waybills_carry_chinese_receiver_address_barcode_number_and_items(two_orders, worker):
    first, second, *_ = two_orders
    wave = waves.create_wave(orders=[first, second], actor=worker)

    pages = pdf_text(printing.print_waybills(wave=wave, actor=worker).pdf)

    assert len(pages) == 2
    assert "李四" in pages[0] and "13800138000" in pages[0]
    assert "浙江省杭州市西湖区文三路100号2幢301室" in pages[0]
    assert "SF1000000" in pages[0] and first.order_no in pages[0]
    assert "顺丰速运" in pages[0] and "保温杯" in pages[0] and "西湖龙井茶" in pages[0]
    assert "收件人" in pages[0] and "寄件人" in pages[0]
    assert "王五" in pages[1] and "SF1000001" in pages[1]


def test_a_waybill_page_is_100_by_180_mm(two_orders, worker):
    first, *_ = two_orders
    pdf = printing.print_waybills(orders=[first], actor=worker).pdf
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 100
    assert round(float(box.height) / 72 * 25.4) == 180


def test_the_pdf_embeds_its_cjk_font(two_orders, worker):
    first, *_ = two_orders
    pdf = printing.print_waybills(orders=[first], actor=worker).pdf
    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    descendant = [f.get_object() for f in fonts.values()]
    assert any("WenQuanYi" in str(f.get("/BaseFont")) for f in descendant)
    assert b"/FontFile2" in pdf


def test_printing_again_keeps_the_numbers_and_marks_the_print_a_reprint(two_orders, worker):
    first, second, *_ = two_orders
    wave = waves.create_wave(orders=[first, second], actor=worker)
    printing.print_waybills(wave=wave, actor=worker)

    again = printing.print_waybills(wave=wave, actor=worker)

    first.refresh_from_db()
    assert first.tracking_no == "SF1000000"
    assert again.record.reprint is True
    assert "补打" in pdf_text(again.pdf)[0]
    assert OrderEvent.objects.filter(order=first, kind="reprinted").count() == 1
    assert TrackingNumber.objects.count() == 2


def test_a_held_order_in_a_wave_is_not_printed_and_keeps_no_number(two_orders, worker):
    first, second, *_ = two_orders
    wave = waves.create_wave(orders=[first, second], actor=worker)
    hold(second)

    outcome = printing.print_waybills(wave=wave, actor=worker)

    second.refresh_from_db()
    assert second.status == Order.Status.REVIEWED and second.tracking_no == ""
    assert [o.pk for o, _reason in outcome.skipped] == [second.pk]
    assert len(pdf_text(outcome.pdf)) == 1


def test_the_pick_list_sums_products_then_lists_each_order(two_orders, worker):
    first, second, cup, tea = two_orders
    wave = waves.create_wave(orders=[first, second], actor=worker)
    printing.print_waybills(wave=wave, actor=worker)

    outcome = printing.print_pick_list(wave=wave, actor=worker)

    text = "\n".join(pdf_text(outcome.pdf))
    assert "拣货单" in text and wave.number in text
    # Products summed: the cup appears with 3 (2 + 1) in the summary section.
    summary = text.split("按订单")[0]
    assert "6901234567892" in summary and "500ml 白色" in summary
    assert "6901234567892\n保温杯\n500ml 白色\n3\n" in summary
    per_order = text.split("按订单")[1]
    assert first.order_no in per_order and second.order_no in per_order
    assert outcome.record.kind == PrintRecord.Kind.PICK_LIST and not outcome.record.reprint
    assert printing.print_pick_list(wave=wave, actor=worker).record.reprint is True


def test_delivery_notes_show_lines_quantities_and_receiver(two_orders, worker):
    first, *_ = two_orders
    outcome = printing.print_order_documents(
        kind=PrintRecord.Kind.DELIVERY_NOTE, orders=[first], actor=worker
    )
    (page,) = pdf_text(outcome.pdf)
    assert "出库发货单" in page and "李四" in page and "6909876543210" in page
    assert "保温杯" in page and "250克" in page
    assert OrderEvent.objects.filter(order=first, kind="document_printed").exists()


def test_the_retail_invoice_shows_the_total_in_figures_and_in_capital_numerals(
    make_order, stocked_product, worker
):
    cup = stocked_product("保温杯")
    tea = stocked_product("西湖龙井茶")
    order = make_order([(cup, 3, "300.00"), (tea, 1, "101.50")], buyer_nick="tb_buyer")

    outcome = printing.print_order_documents(
        kind=PrintRecord.Kind.INVOICE, orders=[order], actor=worker
    )

    (page,) = pdf_text(outcome.pdf)
    assert order.total_amount == Decimal("1001.50")
    assert "零售发票" in page and "天猫旗舰店" in page and "李四" not in page
    assert "¥1,001.50" in page
    assert "壹仟零壹元伍角整" in page
    again = printing.print_order_documents(
        kind=PrintRecord.Kind.INVOICE, orders=[order], actor=worker
    )
    assert again.record.reprint and "补打" in pdf_text(again.pdf)[0]
    printed = OrderEvent.objects.filter(order=order, kind__in=["document_printed", "reprinted"])
    assert list(printed.values_list("kind", flat=True)) == ["document_printed", "reprinted"]


def test_a_wave_cannot_take_an_order_that_is_not_reviewed_or_is_held(
    make_order, stocked_product, worker
):
    cup = stocked_product()
    pending = make_order([(cup, 1, "1")], status=Order.Status.PENDING_REVIEW)
    held = make_order([(cup, 1, "1")], held=True)
    fine = make_order([(cup, 1, "1")])

    with pytest.raises(kernel.OrderError) as err:
        waves.create_wave(orders=[fine, pending, held], actor=worker)

    assert pending.order_no in err.value.message and held.order_no in err.value.message
    assert not Wave.objects.exists()


def test_a_wave_by_filter_takes_single_item_orders_first_up_to_the_limit(
    make_order, stocked_product, carrier, worker, make_shop
):
    cup, tea = stocked_product(), stocked_product()
    multi = make_order([(cup, 1, "1"), (tea, 1, "1")])
    single = make_order([(cup, 1, "1")])
    two_of_one = make_order([(cup, 2, "1")])
    other_shop = make_order([(cup, 1, "1")], shop=make_shop("JD01", "jd"))
    make_order([(cup, 1, "1")], held=True)

    wave = waves.create_wave_by_filter(carrier=carrier, shop=multi.shop, limit=2, actor=worker)

    chosen = list(wave.items.values_list("order_id", flat=True))
    assert chosen == [single.pk, multi.pk]
    rest = waves.create_wave_by_filter(carrier=carrier, actor=worker)
    assert set(rest.items.values_list("order_id", flat=True)) == {two_of_one.pk, other_shop.pk}


def test_an_unprinted_order_can_leave_its_wave_but_a_printed_one_stays(two_orders, worker):
    first, second, *_ = two_orders
    wave = waves.create_wave(orders=[first], actor=worker)
    waves.remove_from_wave(order=first, actor=worker)
    assert not wave.items.exists()
    assert OrderEvent.objects.filter(order=first, kind="wave").count() == 2

    wave = waves.create_wave(orders=[first, second], actor=worker)
    printing.print_waybills(wave=wave, actor=worker)
    with pytest.raises(kernel.OrderError):
        waves.remove_from_wave(order=first, actor=worker)
    assert wave.items.count() == 2


def test_the_pick_list_walks_the_bins_and_keeps_each_product_in_its_unit(
    make_order, stocked_product, worker
):
    rice = stocked_product("东北大米", barcode="6900000000100", unit="kg", location="B-02-1")
    cup = stocked_product("保温杯", barcode="6900000000200", unit="件", location="A-01-3")
    order = make_order([(rice, "1.5", "12.00"), (cup, 2, "59.00")])
    wave = waves.create_wave(orders=[order], actor=worker)
    printing.print_waybills(wave=wave, actor=worker)

    text = "\n".join(pdf_text(printing.print_pick_list(wave=wave, actor=worker).pdf))
    summary = text.split("按订单")[0]

    assert summary.index("A-01-3") < summary.index("B-02-1")  # the picker's walk
    assert "2 件" in summary and "1.5 kg" in summary
    assert "总数量" not in summary  # kilograms and pieces are never added up


def test_the_print_record_of_a_pick_list_counts_its_pages(two_orders, worker):
    first, second, _cup, _tea = two_orders
    wave = waves.create_wave(orders=[first, second], actor=worker)
    printing.print_waybills(wave=wave, actor=worker)

    outcome = printing.print_pick_list(wave=wave, actor=worker)

    assert outcome.record.page_count == len(PdfReader(io.BytesIO(outcome.pdf)).pages) >= 1


def test_the_print_record_of_a_long_delivery_note_counts_every_page(
    make_order, stocked_product, worker
):
    items = [(stocked_product(f"商品{i}"), 1, "1.00") for i in range(36)]
    order = make_order(items)

    outcome = printing.print_order_documents(
        kind=PrintRecord.Kind.DELIVERY_NOTE, orders=[order], actor=worker
    )

    pages = len(PdfReader(io.BytesIO(outcome.pdf)).pages)
    assert pages >= 2  # one order, more than one page
    assert outcome.record.page_count == pages


def test_the_print_record_of_a_handover_list_counts_its_pages(
    make_order, stocked_product, carrier, worker
):
    from orders.services import shipping

    cup = stocked_product("保温杯")
    orders = [make_order([(cup, 1, "59.00")], status=Order.Status.VERIFIED) for _ in range(2)]
    batch = shipping.create_handover_batch(carrier=carrier, actor=worker, orders=orders)

    outcome = printing.print_handover_list(batch=batch, actor=worker)

    assert outcome.record.page_count == len(PdfReader(io.BytesIO(outcome.pdf)).pages) == 1
