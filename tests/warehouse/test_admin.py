import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.models import HandoverBatch, Order, TrackingNumberRange, Wave
from orders.services import printing, scanning, waves

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, worker):
    worker.is_staff = True
    worker.save()
    client.force_login(worker)
    return client


def test_the_warehouse_imports_a_ranges_file_in_the_admin(staff, carrier):
    upload = SimpleUploadedFile("sf.csv", b"SF,2000000,2000099\n")

    response = staff.post(
        reverse("admin:orders_trackingnumberrange_import"),
        {"carrier": carrier.pk, "file": upload},
    )

    assert response.status_code == 302
    assert TrackingNumberRange.objects.filter(carrier=carrier, start=2000000).exists()


def test_a_bad_ranges_file_shows_its_bad_lines_and_imports_nothing(staff, carrier):
    upload = SimpleUploadedFile("sf.csv", b"2000000,2000099\nnonsense\n")

    response = staff.post(
        reverse("admin:orders_trackingnumberrange_import"),
        {"carrier": carrier.pk, "file": upload},
    )

    assert response.status_code == 200
    assert "第 2 行" in response.content.decode()
    assert TrackingNumberRange.objects.filter(carrier=carrier).count() == 1


def test_a_wave_is_made_by_filter_and_its_waybills_and_pick_list_print_as_pdf(
    staff, carrier, make_order, stocked_product
):
    cup = stocked_product()
    orders = [make_order([(cup, 1, "10")]) for _ in range(3)]

    response = staff.post(
        reverse("admin:orders_wave_create"),
        {"carrier": carrier.pk, "limit": 2, "single_item_first": "on"},
    )
    wave = Wave.objects.get()
    assert response.status_code == 302 and wave.items.count() == 2

    changelist = reverse("admin:orders_wave_changelist")
    response = staff.post(changelist, {"action": "print_waybills", "_selected_action": [wave.pk]})
    assert response["Content-Type"] == "application/pdf" and response.content[:5] == b"%PDF-"
    assert Order.objects.filter(status="printed").count() == 2
    response = staff.post(changelist, {"action": "print_pick_list", "_selected_action": [wave.pk]})
    assert response.content[:5] == b"%PDF-"
    for action in ("print_delivery_notes", "print_invoices"):
        response = staff.post(changelist, {"action": action, "_selected_action": [wave.pk]})
        assert response["Content-Type"] == "application/pdf"
    assert orders[2].pk not in wave.items.values_list("order_id", flat=True)


def test_a_handover_batch_is_made_and_shipped_from_the_admin(
    staff, carrier, make_order, stocked_product, worker
):
    cup = stocked_product(barcode="6903333333333")
    order = make_order([(cup, 1, "10")])
    printing.print_waybills(orders=[order], actor=worker)
    scanning.scan_item(order=order, scanned={}, code=cup.barcode, actor=worker)

    staff.post(reverse("admin:orders_handoverbatch_create"), {"carrier": carrier.pk})
    batch = HandoverBatch.objects.get()
    staff.post(
        reverse("admin:orders_handoverbatch_changelist"),
        {"action": "ship_batches", "_selected_action": [batch.pk]},
    )

    order.refresh_from_db()
    batch.refresh_from_db()
    assert order.status == "shipped" and batch.shipped_by == worker


def test_number_ranges_cannot_be_deleted_so_used_numbers_stay_known(staff, carrier):
    rng = TrackingNumberRange.objects.get(carrier=carrier)
    response = staff.post(reverse("admin:orders_trackingnumberrange_delete", args=[rng.pk]))
    assert response.status_code == 403
    assert TrackingNumberRange.objects.filter(pk=rng.pk).exists()


def test_a_typed_in_number_is_saved_from_the_admin_and_a_used_one_refused(
    staff, carrier, make_order, stocked_product
):
    cup = stocked_product()
    a, b = make_order([(cup, 1, "10")]), make_order([(cup, 1, "10")])
    url = reverse("admin:orders_trackingnumber_type_in")

    staff.post(url, {"order_no": a.order_no, "carrier": carrier.pk, "number": "SF777"})
    response = staff.post(url, {"order_no": b.order_no, "carrier": carrier.pk, "number": "SF777"})

    a.refresh_from_db()
    b.refresh_from_db()
    assert a.tracking_no == "SF777" and b.tracking_no == ""
    assert response.status_code == 200 and "已使用过" in response.content.decode()


def test_the_shipment_file_downloads_as_csv(staff, shop):
    response = staff.post(reverse("admin:orders_trackingnumber_shipment_file"), {"shop": shop.pk})
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode("utf-8-sig").startswith("platform_order_no,")


@pytest.mark.parametrize(
    "name",
    [
        "admin:orders_carrier_changelist",
        "admin:orders_trackingnumberrange_changelist",
        "admin:orders_trackingnumberrange_import",
        "admin:orders_trackingnumber_changelist",
        "admin:orders_trackingnumber_type_in",
        "admin:orders_trackingnumber_shipment_file",
        "admin:orders_wave_changelist",
        "admin:orders_wave_create",
        "admin:orders_printrecord_changelist",
        "admin:orders_handoverbatch_changelist",
        "admin:orders_handoverbatch_create",
    ],
)
def test_the_warehouse_pages_of_the_admin_open_for_the_warehouse_group(staff, carrier, name):
    response = staff.get(reverse(name))
    assert response.status_code == 200


def test_a_wave_page_lists_its_orders(staff, carrier, make_order, stocked_product, worker):
    cup = stocked_product()
    order = make_order([(cup, 1, "10")])
    wave = waves.create_wave(orders=[order], actor=worker)
    response = staff.get(reverse("admin:orders_wave_change", args=[wave.pk]))
    assert response.status_code == 200 and order.order_no in response.content.decode()
