import pytest

from orders.models import Carrier, Order, TrackingNumber, TrackingNumberRange
from orders.services import kernel, printing, tracking

pytestmark = pytest.mark.django_db


@pytest.fixture
def yto(db):
    return Carrier.objects.create(code="YTO", name="圆通速递")


def test_ranges_are_imported_from_a_file_with_prefixes_and_leading_zeros(yto, worker):
    text = "prefix,start,end\nYT,000100,000102\n# a comment\n\n880000001-880000005\n"

    created = tracking.import_tracking_ranges(
        carrier=yto, text=text, actor=worker, source="yto.csv"
    )

    assert [(r.prefix, r.start, r.end) for r in created] == [
        ("YT", 100, 102),
        ("", 880000001, 880000005),
    ]
    assert tracking.take_pool_numbers(carrier=yto, count=4) == [
        "YT000100",
        "YT000101",
        "YT000102",
        "880000001",
    ]
    assert tracking.pool_remaining(yto) == 4


def test_a_file_with_a_bad_line_imports_nothing_and_names_every_bad_line(yto, worker):
    text = "100,200\nabc\n300,299\n"

    with pytest.raises(tracking.RangeImportError) as err:
        tracking.import_tracking_ranges(carrier=yto, text=text, actor=worker)

    assert [p.split("：")[0] for p in err.value.problems] == ["第 2 行", "第 3 行"]
    assert not TrackingNumberRange.objects.filter(carrier=yto).exists()


def test_a_range_overlapping_the_pool_is_refused_so_no_number_can_come_twice(yto, worker):
    tracking.import_tracking_ranges(carrier=yto, text="100,200", actor=worker)

    with pytest.raises(tracking.RangeImportError):
        tracking.import_tracking_ranges(carrier=yto, text="300,400\n150,250", actor=worker)

    assert TrackingNumberRange.objects.filter(carrier=yto).count() == 1


def test_an_exhausted_pool_stops_the_print_and_changes_nothing(make_order, stocked_product, worker):
    tiny = Carrier.objects.create(code="ZTO", name="中通快递")
    tracking.import_tracking_ranges(carrier=tiny, text="1,1", actor=worker)
    cup = stocked_product()
    orders = [make_order([(cup, 1, "1")], carrier=tiny) for _ in range(2)]

    with pytest.raises(kernel.OrderError) as err:
        printing.print_waybills(orders=orders, actor=worker)

    assert err.value.code == "pool_exhausted"
    assert set(Order.objects.values_list("status", flat=True)) == {"reviewed"}
    assert TrackingNumberRange.objects.get(carrier=tiny).next_value == 1
    assert not TrackingNumber.objects.exists()


def test_a_cancelled_waybill_number_is_never_handed_out_again(make_order, stocked_product, worker):
    cup = stocked_product()
    order = make_order([(cup, 1, "1")])
    printing.print_waybills(orders=[order], actor=worker)
    order.refresh_from_db()
    first_number = order.tracking_no

    tracking.cancel_waybill(order=order, actor=worker, reason="面单打印模糊")
    order.refresh_from_db()
    assert (order.status, order.tracking_no) == (Order.Status.REVIEWED, "")
    printing.print_waybills(orders=[order], actor=worker)

    order.refresh_from_db()
    assert order.tracking_no != first_number and order.status == Order.Status.PRINTED
    voided = TrackingNumber.objects.get(number=first_number)
    assert voided.voided_at is not None and voided.voided_by == worker
    with pytest.raises(kernel.OrderError):
        tracking.set_tracking_number(order=order, number=first_number, actor=worker)


def test_a_typed_in_number_is_kept_at_print_and_skipped_by_the_pool(
    make_order, stocked_product, carrier, worker
):
    cup = stocked_product()
    typed, other = make_order([(cup, 1, "1")]), make_order([(cup, 1, "1")])
    # A hand-written waybill happens to carry the pool's next number.
    tracking.set_tracking_number(order=typed, number="SF1000000", actor=worker)

    printing.print_waybills(orders=[typed, other], actor=worker)

    typed.refresh_from_db()
    other.refresh_from_db()
    assert typed.tracking_no == "SF1000000"
    assert other.tracking_no == "SF1000001"
    assert TrackingNumber.objects.get(number="SF1000000").source == "manual"


def test_a_number_used_by_one_order_cannot_be_typed_in_for_another(
    make_order, stocked_product, worker
):
    cup = stocked_product()
    a, b = make_order([(cup, 1, "1")]), make_order([(cup, 1, "1")])
    tracking.set_tracking_number(order=a, number="SF9", actor=worker)

    with pytest.raises(kernel.OrderError) as err:
        tracking.set_tracking_number(order=b, number="SF9", actor=worker)

    assert err.value.code == "number_used"
    b.refresh_from_db()
    assert b.tracking_no == ""


def test_an_electronic_waybill_service_can_replace_the_pool_for_a_carrier(
    make_order, stocked_product, carrier, worker
):
    class FakeService:
        source = TrackingNumber.Source.PROVIDER

        def allocate(self, *, carrier, orders, actor):
            return [f"E-{o.order_no}" for o in orders]

    cup = stocked_product()
    order = make_order([(cup, 1, "1")])
    tracking.register_provider("SF", FakeService())
    try:
        printing.print_waybills(orders=[order], actor=worker)
    finally:
        tracking.register_provider("SF", None)

    order.refresh_from_db()
    assert order.tracking_no == f"E-{order.order_no}"
    assert TrackingNumber.objects.get(order=order).source == "provider"
    assert TrackingNumberRange.objects.get(carrier=carrier).next_value == 1000000


def test_the_import_command_adds_ranges_and_refuses_a_bad_file_whole(yto, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    good = tmp_path / "ranges.csv"
    good.write_text("start,end\n5000,5099\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("6000,6099\nx,y\n", encoding="utf-8")

    call_command("import_tracking_numbers", "YTO", str(good))
    with pytest.raises(CommandError) as err:
        call_command("import_tracking_numbers", "YTO", str(bad))

    assert err.value.returncode == 1
    assert tracking.pool_remaining(yto) == 100
