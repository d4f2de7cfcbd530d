"""The JD and Weimob connectors against the sandbox over HTTP."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from channels import notices
from channels.connectors.base import AuthError
from channels.connectors.jd import JdConnector
from channels.connectors.weimob import WeimobConnector
from channels.models import OutboxMessage, SkuComponent, SkuMapping
from channels.sellable import recompute_sellable
from channels.sync_state import read_sync_state, update_sync_state
from channels.types import ShipmentNotice
from inventory import services as stock
from platformsync import outbox
from platformsync.sync import read_window

pytestmark = pytest.mark.django_db


def read(connector, kind="orders"):
    now = datetime.now(UTC)
    got = []
    read_window(
        fetch_page=connector.order_page if kind == "orders" else connector.refund_page,
        key=connector.order_key if kind == "orders" else connector.refund_key,
        page_size=connector.page_size if kind == "orders" else connector.refund_page_size,
        start=now - timedelta(hours=3),
        end=now + timedelta(minutes=1),
        handle=got.extend,
    )
    return got


def test_a_jd_call_with_a_wrong_signature_is_refused(sandbox, jd_shop):
    jd_shop.credentials["secret"] = "wrong"
    with pytest.raises(AuthError) as err:
        read(JdConnector(jd_shop))
    assert err.value.code == "12"


def test_jd_orders_map_onto_ours_locked_is_a_refund_and_cancelled_is_closed(sandbox, jd_shop):
    plain, refunded, closed = sandbox.generate(platform="jd", count=3)
    sandbox.control("refund", platform="jd", tid=refunded)
    sandbox.control("close", platform="jd", tid=closed)
    connector = JdConnector(jd_shop)
    connector.page_size = 2

    orders = {o.platform_order_no: o for o in connector.normalize_orders(read(connector))}

    assert orders.keys() == {plain, refunded, closed}
    assert orders[plain].platform_change == ""
    assert orders[refunded].platform_change == "refund_requested"
    assert orders[closed].platform_change == "cancelled"
    raw = sandbox.order("jd", plain)
    assert orders[plain].address.startswith(raw["receiver_address"][:3])
    assert orders[plain].province == raw["receiver_state"]
    assert isinstance(orders[plain].lines[0].unit_price, Decimal)


def test_jd_refunds_come_in_yuan_from_fen(sandbox, jd_shop):
    (tid,) = sandbox.generate(platform="jd", count=1)
    sandbox.control("refund", platform="jd", tid=tid)
    raw = sandbox.order("jd", tid)["lines"][0]

    (notice,) = JdConnector(jd_shop).normalize_refunds(read(JdConnector(jd_shop), "refunds"))

    assert notice.platform_order_no == tid and notice.status == "requested"
    assert notice.amount == Decimal(raw["price"]) * raw["num"]


def test_jd_shipment_and_stock_write_back(sandbox, jd_shop, make_product, main_warehouse):
    (tid,) = sandbox.generate(platform="jd", count=1)
    notices.queue_shipment(
        shop=jd_shop,
        dedupe_key="shipment:jd1",
        notice=ShipmentNotice(
            order_no="SO00001",
            platform_order_no=tid,
            carrier="2087",
            tracking_no="JDV0001",
            platform_line_ids=tuple([]),
            partial=False,
            shipped_at=timezone.now(),
            carrier_name="",
        ),
    )
    product = make_product()
    stock.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=7, actor=None)
    mapping = SkuMapping.objects.create(shop=jd_shop, platform_sku="POT-001")
    SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal("1"))
    recompute_sellable([product.id])

    result = outbox.drain()

    assert result.sent == 2
    assert sandbox.state()["stock"]["jd"] == {"POT-001": 7}
    assert [s["tracking_no"] for s in sandbox.state()["shipments"]] == ["JDV0001"]


def test_weimob_fetches_a_token_once_and_refreshes_it_when_refused(sandbox, weimob_shop):
    made = sandbox.generate(platform="weimob", count=3)
    connector = WeimobConnector(weimob_shop)

    assert sorted(o["orderNo"] for o in read(connector)) == sorted(made)
    read(connector)
    assert sandbox.state()["calls"]["weimob:token"] == 1

    # the platform forgets the token (expired early): one refusal, a new token, the same answer
    sandbox.control("reset")
    sandbox.generate(platform="weimob", count=2)
    assert len(read(connector)) == 2
    assert sandbox.state()["calls"]["weimob:token"] == 1
    assert read_sync_state(weimob_shop.pk)["weimob_token"]["value"]


def test_weimob_refreshes_the_token_before_it_expires(sandbox, weimob_shop):
    connector = WeimobConnector(weimob_shop)
    first = connector.token()
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    update_sync_state(weimob_shop.pk, weimob_token={"value": first, "expires_at": soon})
    assert connector.token() != first


def test_weimob_with_wrong_client_secret_gets_no_token(sandbox, weimob_shop):
    weimob_shop.credentials["client_secret"] = "wrong"
    with pytest.raises(AuthError):
        WeimobConnector(weimob_shop).token()


def test_weimob_orders_rights_delivery_and_stock(
    sandbox, weimob_shop, make_product, main_warehouse
):
    tid, refunded = sandbox.generate(platform="weimob", count=2)
    sandbox.control("refund", platform="weimob", tid=refunded)
    connector = WeimobConnector(weimob_shop)
    orders = {o.platform_order_no: o for o in connector.normalize_orders(read(connector))}
    assert orders[refunded].platform_change == "refund_requested"
    (notice,) = connector.normalize_refunds(read(connector, "refunds"))
    assert notice.platform_order_no == refunded

    notices.queue_shipment(
        shop=weimob_shop,
        dedupe_key="shipment:wm1",
        notice=ShipmentNotice(
            order_no="SO00001",
            platform_order_no=tid,
            carrier="zhongtong",
            tracking_no="ZT1",
            platform_line_ids=tuple([]),
            partial=False,
            shipped_at=timezone.now(),
            carrier_name="",
        ),
    )
    product = make_product()
    stock.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=5, actor=None)
    for sku in ("CUP-001", "NOPE-1"):
        mapping = SkuMapping.objects.create(shop=weimob_shop, platform_sku=sku)
        SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal("1"))
    recompute_sellable([product.id])

    result = outbox.drain()

    assert (result.sent, result.parked) == (2, 1)
    assert sandbox.state()["stock"]["weimob"] == {"CUP-001": 5}
    assert OutboxMessage.objects.get(status="parked").payload["platform_sku"] == "NOPE-1"
