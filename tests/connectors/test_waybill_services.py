"""The electronic waybill services (Cainiao through TOP, JD through JOS) against the sandbox."""

import pytest

from channels.connectors.base import PermanentError, TransientError
from channels.connectors.jd import JdConnector
from channels.connectors.top import TopConnector
from channels.connectors.waybill import (
    CainiaoClient,
    JdWaybillClient,
    Recipient,
    WaybillAccount,
    WaybillRequest,
)

from .conftest import credentials

pytestmark = pytest.mark.django_db

SENDER = {
    "name": "同仓仓库",
    "phone": "057188880000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "余杭区",
    "address": "仓前街道 1 号",
}


def cainiao(sandbox, cp_code="YTO", balance=1000, timeout=1.0):
    sandbox.control(
        "waybill_account", service="cainiao", cp_code=cp_code, branch_code="571001", balance=balance
    )
    account = WaybillAccount(
        service="cainiao",
        carrier_code=cp_code,
        base_url=sandbox.url,
        credentials=credentials("top", timeout=timeout),
        branch_code="571001",
        customer_code="",
        sender=SENDER,
    )
    return CainiaoClient(account)


def jd_waybills(sandbox):
    sandbox.control("waybill_account", service="jd", cp_code="JD", customer_code="010K0001")
    account = WaybillAccount(
        service="jd",
        carrier_code="JD",
        base_url=sandbox.url,
        credentials=credentials("jd"),
        customer_code="010K0001",
        sender=SENDER,
    )
    return JdWaybillClient(account)


def clear_request(n: int, channel="weimob") -> WaybillRequest:
    return WaybillRequest(
        key=f"SO{n:05d}",
        platform_order_nos=[f"W{n:05d}"],
        channel=channel,
        recipient=Recipient(
            name="王伟",
            phone="13800001111",
            province="江苏省",
            city="南京市",
            district="鼓楼区",
            address=f"中山北路{n}号",
        ),
        items=[("青瓷茶杯", 1)],
    )


def issued(sandbox, status="issued"):
    return [w for w in sandbox.state()["waybills"] if w["status"] == status]


def test_cainiao_issues_numbers_with_routing_data_ten_parcels_a_call(sandbox):
    client = cainiao(sandbox)

    got = client.issue([clear_request(n) for n in range(25)])

    assert [w.key for w in got] == [f"SO{n:05d}" for n in range(25)]
    assert len({w.tracking_no for w in got}) == 25
    assert all(w.tracking_no.startswith("YT") for w in got)
    assert got[0].short_address and got[0].package_center and got[0].sort_code
    assert sandbox.state()["calls"]["top:cainiao.waybill.ii.get"] == 3
    assert client.wait_seconds > 0


def test_an_encrypted_top_order_is_printed_from_its_oaid_not_its_masked_text(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    (order,) = TopConnector(top_shop).fetch_orders([tid])
    raw = sandbox.order("top", tid)
    request = WaybillRequest(
        key="SO00001",
        platform_order_nos=[tid],
        channel="taobao",
        recipient=Recipient(
            name=order.receiver_name,
            phone=order.receiver_phone,
            province=order.province,
            city=order.city,
            district=order.district,
            address=order.address,
            oaid=order.receiver_oaid,
            platform_order_no=tid,
        ),
    )

    (waybill,) = cainiao(sandbox).issue([request])

    assert waybill.recipient.name == raw["receiver_name"]
    assert waybill.recipient.address == raw["receiver_address"]
    assert sandbox.state()["decrypts"] == {}  # printed without a decryption call


def test_masked_text_without_the_receiver_id_is_refused(sandbox):
    request = clear_request(1)
    request.recipient.name, request.recipient.address = "王*", "中山北路********"

    with pytest.raises(PermanentError) as err:
        cainiao(sandbox).issue([request])
    assert "recipient" in err.value.sub_code
    assert issued(sandbox) == []


def test_asking_again_for_the_same_parcel_gives_the_same_number(sandbox):
    client = cainiao(sandbox, balance=5)
    (first,) = client.issue([clear_request(1)])

    (again,) = client.issue([clear_request(1)])

    assert again.tracking_no == first.tracking_no
    assert len(issued(sandbox)) == 1


def test_a_retry_after_a_timeout_wastes_no_number_and_gives_no_second(sandbox):
    client = cainiao(sandbox, timeout=0.5)
    sandbox.fault("timeout_after", method="cainiao.waybill.ii.get", platform="top", delay=1.0)
    requests = [clear_request(n) for n in range(3)]

    with pytest.raises(TransientError):
        client.issue(requests)  # the service issued them; the answer came too late
    got = client.issue(requests)

    assert len(issued(sandbox)) == 3
    assert {w.tracking_no for w in got} == {w["waybill_code"] for w in issued(sandbox)}


def test_cancelling_gives_the_number_back_and_the_parcel_a_new_one_next_time(sandbox):
    client = cainiao(sandbox, balance=2)
    (first,) = client.issue([clear_request(1)])

    client.cancel(first.tracking_no)
    (second,) = client.issue([clear_request(1)])

    assert second.tracking_no != first.tracking_no
    assert [w["waybill_code"] for w in issued(sandbox, "cancelled")] == [first.tracking_no]
    client.issue([clear_request(2)])  # the balance of 2 held: the cancelled number came back
    with pytest.raises(PermanentError):
        client.cancel(first.tracking_no)  # cancelled once


def test_a_service_outage_and_a_carrier_not_subscribed_are_told_apart(sandbox):
    client = cainiao(sandbox)
    sandbox.fault("http_500", method="cainiao.waybill.ii.get", platform="top")
    with pytest.raises(TransientError):
        client.issue([clear_request(1)])

    client.account.carrier_code = "SF"
    with pytest.raises(PermanentError) as err:
        client.issue([clear_request(1)])
    assert "subscribed" in err.value.sub_code


def test_an_empty_balance_is_a_refusal(sandbox):
    client = cainiao(sandbox, balance=1)
    client.issue([clear_request(1)])

    with pytest.raises(PermanentError) as err:
        client.issue([clear_request(2)])
    assert "balance" in err.value.sub_code


def test_jd_waybills_for_jd_orders_resolve_the_receiver_and_cancel(sandbox, jd_shop):
    from datetime import UTC, datetime, timedelta

    (tid,) = sandbox.generate(platform="jd", count=1)
    connector = JdConnector(jd_shop)
    now = datetime.now(UTC)
    page = connector.order_page(now - timedelta(hours=3), now + timedelta(minutes=1), 1)
    (order,) = connector.normalize_orders(page.items)
    raw = sandbox.order("jd", tid)
    client = jd_waybills(sandbox)
    request = WaybillRequest(
        key="SO00009",
        platform_order_nos=[tid],
        channel="jd",
        recipient=Recipient(
            name=order.receiver_name,
            province=order.province,
            city=order.city,
            oaid=order.receiver_oaid,
            platform_order_no=tid,
        ),
    )

    (waybill,) = client.issue([request])
    (again,) = client.issue([request])
    client.cancel(waybill.tracking_no)

    assert waybill.tracking_no.startswith("JDVA") and again.tracking_no == waybill.tracking_no
    assert waybill.recipient.name == raw["receiver_name"]
    assert waybill.sort_code and waybill.package_center
    assert [w["status"] for w in sandbox.state()["waybills"]] == ["cancelled"]
