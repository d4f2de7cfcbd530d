"""The handover list printed from the handover batch page, and the waybill subscriptions page."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from orders.models import Order, PrintRecord
from orders.services import shipping, tracking

from .barcodes import decode_pages
from .test_label_barcodes import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, worker):
    worker.is_staff = True
    worker.save()
    client.force_login(worker)
    return client


@pytest.fixture
def batch(make_order, stocked_product, carrier, worker):
    cup = stocked_product("保温杯")
    orders = []
    for i in range(2):
        order = make_order([(cup, 1, "59.00")])
        tracking.set_tracking_number(order=order, number=f"SF300000{i}", actor=worker)
        Order.objects.filter(pk=order.pk).update(status=Order.Status.VERIFIED)
        orders.append(order)
    return shipping.create_handover_batch(carrier=carrier, actor=worker, orders=orders)


def test_the_handover_list_prints_from_the_batch_page_and_a_second_print_is_a_reprint(staff, batch):
    url = reverse("admin:orders_handoverbatch_changelist")
    data = {"action": "print_handover_lists", "_selected_action": [batch.pk]}

    first = staff.post(url, data)
    second = staff.post(url, data)

    assert first["Content-Type"] == "application/pdf"
    assert [c for page in decode_pages(first.content) for c in page] == ["SF3000000", "SF3000001"]
    assert "补打" not in pdf_text(first.content)[0] and "补打" in pdf_text(second.content)[0]
    records = PrintRecord.objects.filter(kind="handover_list", handover=batch).order_by("id")
    assert [r.reprint for r in records] == [False, True]


def test_an_administrator_manages_waybill_subscriptions(client, carrier):
    admin = User.objects.create_superuser("boss", password="boss-pass-123")
    client.force_login(admin)

    listing = client.get(reverse("admin:orders_waybillsubscription_changelist"))
    form = client.get(reverse("admin:orders_waybillsubscription_add"))

    assert listing.status_code == 200 and form.status_code == 200
    assert "网点编码" in form.content.decode() and "月结账号" in form.content.decode()
