"""Electronic waybills end to end: a wave of several shops' orders printed with numbers from the
sandbox's Cainiao service (over HTTP), cancelling gives them back, an outage falls back to the
pool and says so, and a retry after a timeout neither wastes numbers nor gives an order two."""

import io

import pytest
from pypdf import PdfReader

from channels.connectors.top import TopConnector
from orders.models import Carrier, Order, OrderEvent, TrackingNumber, WaybillSubscription
from orders.services import printing, tracking, waves
from orders.services.kernel import OrderError
from tests.connectors.conftest import credentials, sandbox, sandbox_server  # noqa: F401

from .barcodes import decode_pages

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def top_shop(make_shop, sandbox):  # noqa: F811
    return make_shop(
        code="TB01", platform="taobao", api_base_url=sandbox.url, credentials=credentials("top")
    )


@pytest.fixture
def yto(db, sandbox, top_shop, make_shop):  # noqa: F811
    """YTO through Cainiao (the TOP shop holds the subscription), a pool for the fall-back."""
    carrier = Carrier.objects.create(
        code="YTO",
        name="圆通速递",
        waybill_layout=Carrier.Layout.ONE_PART,
        number_source=Carrier.NumberSource.PROVIDER,
    )
    carrier.ranges.create(prefix="YP", start=1, end=999, width=6, next_value=1)
    sandbox.control(
        "waybill_account", service="cainiao", cp_code="YTO", branch_code="571001", balance=1000
    )
    WaybillSubscription.objects.create(
        carrier=carrier,
        service="cainiao",
        service_carrier_code="YTO",
        account_shop=top_shop,
        branch_code="571001",
        branch_name="杭州余杭网点",
        settlement_code="YTO-M-001",
        sender_name="同仓仓库",
        sender_phone="057188880000",
        sender_province="浙江省",
        sender_city="杭州市",
        sender_district="余杭区",
        sender_address="仓前街道1号",
    )
    return carrier


@pytest.fixture
def wave_of_three_shops(sandbox, top_shop, make_shop, make_order, stocked_product, yto):  # noqa: F811
    """An encrypted Taobao order (as the connector reads it), a Tmall and a Weimob order."""
    (tid,) = sandbox.generate(count=1)
    (normalized,) = TopConnector(top_shop).fetch_orders([tid])
    cup = stocked_product("青瓷茶杯")
    taobao = make_order(
        [(cup, 1, "39.90")],
        carrier=yto,
        shop=top_shop,
        receiver_name=normalized.receiver_name,
        receiver_phone=normalized.receiver_phone,
        province=normalized.province,
        city=normalized.city,
        district=normalized.district,
        address=normalized.address,
        receiver_oaid=normalized.receiver_oaid,
    )
    Order.objects.filter(pk=taobao.pk).update(platform_order_no=tid)
    taobao.refresh_from_db()
    tmall = make_order([(cup, 2, "39.90")], carrier=yto, receiver_name="李四")
    weimob = make_order(
        [(cup, 1, "39.90")], carrier=yto, shop=make_shop("WM01", "weimob"), receiver_name="王五"
    )
    return [taobao, tmall, weimob], sandbox.order("top", tid)


def numbers_of(orders):
    return [Order.objects.get(pk=o.pk).tracking_no for o in orders]


def issued(sandbox, status="issued"):  # noqa: F811
    return [w for w in sandbox.state()["waybills"] if w["status"] == status]


def test_a_wave_of_several_shops_prints_with_numbers_from_cainiao(
    sandbox,  # noqa: F811
    wave_of_three_shops,
    worker,
):
    orders, raw = wave_of_three_shops
    wave = waves.create_wave(orders=orders, actor=worker)

    outcome = printing.print_waybills(wave=wave, actor=worker)

    numbers = numbers_of(orders)
    assert all(n.startswith("YT") for n in numbers) and len(set(numbers)) == 3
    assert sorted(w["waybill_code"] for w in issued(sandbox)) == sorted(numbers)
    assert decode_pages(outcome.pdf) == [[n] for n in numbers]
    pages = pdf_text(outcome.pdf)
    # the encrypted order's label shows the receiver the service printed; we keep the mask
    assert raw["receiver_name"] in pages[0] and raw["receiver_address"] in pages[0]
    taobao = Order.objects.get(pk=orders[0].pk)
    assert taobao.receiver_name != raw["receiver_name"] and "*" in taobao.receiver_name
    number = TrackingNumber.objects.get(order=taobao)
    assert number.source == "provider" and number.sort_code and number.short_address
    assert number.sort_code in pages[0] and number.package_center in pages[0]
    assert outcome.notices == []
    assert sandbox.state()["decrypts"] == {}


def test_cancelling_a_waybill_gives_its_number_back_and_the_next_print_gets_another(
    sandbox,  # noqa: F811
    wave_of_three_shops,
    worker,
):
    orders, _raw = wave_of_three_shops
    printing.print_waybills(orders=orders[1:2], actor=worker)
    first = numbers_of(orders[1:2])[0]

    tracking.cancel_waybill(order=orders[1], actor=worker, reason="面单打错")
    printing.print_waybills(orders=orders[1:2], actor=worker)

    again = numbers_of(orders[1:2])[0]
    assert again != first
    assert [w["waybill_code"] for w in issued(sandbox, "cancelled")] == [first]
    old = TrackingNumber.objects.get(number=first)
    assert old.voided_at is not None and old.returned_at is not None
    assert OrderEvent.objects.filter(
        order=orders[1], kind="waybill_cancelled", message__contains="已退回"
    ).exists()


def test_a_provider_outage_falls_back_to_the_pool_and_says_so(
    sandbox,  # noqa: F811
    wave_of_three_shops,
    yto,
    worker,
):
    Carrier.objects.filter(pk=yto.pk).update(number_source=Carrier.NumberSource.PROVIDER_THEN_POOL)
    orders, _raw = wave_of_three_shops
    sandbox.fault("http_500", method="cainiao.waybill.ii.get", platform="top", times=5)

    outcome = printing.print_waybills(orders=orders[1:], actor=worker)

    assert numbers_of(orders[1:]) == ["YP000001", "YP000002"]
    assert len(outcome.notices) == 1 and "单号池" in outcome.notices[0]
    for number in TrackingNumber.objects.filter(order__in=orders[1:]):
        assert number.source == "pool" and "HTTP 502" in number.fallback_reason
    assert OrderEvent.objects.filter(
        order=orders[1], kind="tracking_assigned", message__contains="单号池"
    ).exists()
    assert decode_pages(outcome.pdf) == [["YP000001"], ["YP000002"]]


def test_a_provider_outage_without_a_pool_prints_nothing(
    sandbox,  # noqa: F811
    wave_of_three_shops,
    worker,
):
    orders, _raw = wave_of_three_shops
    sandbox.fault("http_500", method="cainiao.waybill.ii.get", platform="top", times=5)

    with pytest.raises(OrderError) as err:
        printing.print_waybills(orders=orders, actor=worker)

    assert err.value.code == "provider_down"
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in orders])} == {
        Order.Status.REVIEWED
    }
    assert not TrackingNumber.objects.exists()


def test_a_retry_after_a_timeout_wastes_no_number_and_gives_no_order_two(
    sandbox,  # noqa: F811
    wave_of_three_shops,
    top_shop,
    worker,
):
    orders, _raw = wave_of_three_shops
    top_shop.credentials["timeout"] = 0.5
    top_shop.save(update_fields=["credentials"])
    sandbox.fault("timeout_after", method="cainiao.waybill.ii.get", platform="top", delay=1.0)

    with pytest.raises(OrderError):
        printing.print_waybills(orders=orders, actor=worker)  # issued, but the answer was lost
    printing.print_waybills(orders=orders, actor=worker)

    numbers = numbers_of(orders)
    assert len(issued(sandbox)) == 3
    assert sorted(numbers) == sorted(w["waybill_code"] for w in issued(sandbox))
    assert TrackingNumber.objects.count() == 3


def test_a_reprint_asks_the_service_again_and_keeps_the_number(
    sandbox,  # noqa: F811
    wave_of_three_shops,
    worker,
):
    orders, raw = wave_of_three_shops
    printing.print_waybills(orders=orders[:1], actor=worker)
    number = numbers_of(orders[:1])[0]

    outcome = printing.print_waybills(orders=orders[:1], actor=worker)

    assert numbers_of(orders[:1]) == [number] and len(issued(sandbox)) == 1
    (page,) = pdf_text(outcome.pdf)
    assert raw["receiver_name"] in page and "补打" in page
    assert decode_pages(outcome.pdf) == [[number]]


def test_jd_orders_take_jd_waybills_and_other_shops_cainiao_in_one_wave(
    sandbox,  # noqa: F811
    wave_of_three_shops,
    yto,
    make_shop,
    make_order,
    stocked_product,
    worker,
):
    from datetime import UTC, datetime, timedelta

    from channels.connectors.jd import JdConnector

    jd_shop = make_shop(
        code="JD01", platform="jd", api_base_url=sandbox.url, credentials=credentials("jd")
    )
    sandbox.control("waybill_account", service="jd", cp_code="JD", customer_code="010K0001")
    cainiao = WaybillSubscription.objects.get(carrier=yto)
    WaybillSubscription.objects.create(
        carrier=yto,
        service="jd",
        service_carrier_code="JD",
        account_shop=jd_shop,
        customer_code="010K0001",
        **{
            f.name: getattr(cainiao, f.name)
            for f in WaybillSubscription._meta.fields
            if f.name.startswith("sender_")
        },
    )
    (tid,) = sandbox.generate(platform="jd", count=1)
    connector = JdConnector(jd_shop)
    now = datetime.now(UTC)
    page = connector.order_page(now - timedelta(hours=3), now + timedelta(minutes=1), 1)
    (normalized,) = connector.normalize_orders(page.items)
    jd_order = make_order(
        [(stocked_product("茶叶"), 1, "10.00")],
        carrier=yto,
        shop=jd_shop,
        receiver_name=normalized.receiver_name,
        receiver_phone=normalized.receiver_phone,
        province=normalized.province,
        city=normalized.city,
        address=normalized.address,
        receiver_oaid=normalized.receiver_oaid,
    )
    Order.objects.filter(pk=jd_order.pk).update(platform_order_no=tid)
    orders, _raw = wave_of_three_shops

    outcome = printing.print_waybills(orders=[orders[0], jd_order], actor=worker)

    taobao_no, jd_no = numbers_of([orders[0], jd_order])
    assert taobao_no.startswith("YT") and jd_no.startswith("JDVA")
    assert sandbox.order("jd", tid)["receiver_name"] in pdf_text(outcome.pdf)[1]
    assert decode_pages(outcome.pdf) == [[taobao_no], [jd_no]]
