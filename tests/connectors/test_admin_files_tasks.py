"""The sync status page, "sync now", the outbox admin, file exports and the schedules."""

import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from openpyxl import load_workbook

from channels import notices
from channels.connectors.files import (
    NotAFileShop,
    confirm_tracking_export,
    export_stock,
    export_tracking,
)
from channels.models import OutboxMessage, SkuComponent, SkuMapping
from channels.sellable import recompute_sellable
from inventory import services as stock
from platformsync import outbox, sync

pytestmark = pytest.mark.django_db


def test_the_schedules_exist_after_migrate():
    funcs = dict(Schedule.objects.values_list("func", "schedule_type"))
    assert funcs["platformsync.tasks.sync_all_shops"] == Schedule.MINUTES
    assert funcs["platformsync.tasks.drain_outbox"] == Schedule.MINUTES
    assert funcs["platformsync.tasks.full_stock_push"] == Schedule.DAILY
    minutes = dict(Schedule.objects.values_list("func", "minutes"))
    assert minutes["platformsync.tasks.sync_all_shops"] == 15
    assert minutes["platformsync.tasks.drain_outbox"] == 1
    nightly = Schedule.objects.get(func="platformsync.tasks.full_stock_push").next_run
    assert timezone.localtime(nightly).strftime("%H:%M") == "03:30"


def test_the_status_page_shows_pulls_pushes_and_errors(admin_client, top_shop):
    sync.update_sync_state(
        top_shop.pk,
        orders_last_pull_at=timezone.now().isoformat(),
        orders_last_read=12,
        orders_total_read=340,
        refunds_total_read=7,
        orders_last_error="timeout after 10 s",
    )
    notices.enqueue(shop=top_shop, kind="shipment", dedupe_key="shipment:1", payload={})
    OutboxMessage.objects.create(
        shop=top_shop,
        kind="shipment",
        dedupe_key="shipment:2",
        status="parked",
        last_error="交易已关闭，不能发货",
        last_attempt_at=timezone.now(),
    )

    listing = admin_client.get(reverse("admin:channels_shopsyncstatus_changelist"))
    page = admin_client.get(reverse("admin:channels_shopsyncstatus_change", args=[top_shop.pk]))

    assert listing.status_code == page.status_code == 200
    text = page.content.decode()
    assert "上次拉取读到 12 个订单（新增或有变化），自接入以来共 340 个" in text
    assert "timeout after 10 s" in text and "交易已关闭" in text
    assert "连不上平台" in text and "平台拒绝了这次调用" in text  # each answer behind a reason
    assert reverse("admin:channels_shopsyncstatus_sync", args=[top_shop.pk]) in text
    assert "立即同步" in text and "最近错误" in text  # the interface speaks Chinese by default


def test_sync_now_is_allowed_once_every_five_minutes(admin_client, top_shop):
    url = reverse("admin:channels_shopsyncstatus_sync", args=[top_shop.pk])

    first = admin_client.post(url, follow=True)
    second = admin_client.post(url, follow=True)

    assert OrmQ.objects.count() == 1  # one pull queued for the task cluster
    messages = [str(m) for m in second.context["messages"]]
    assert any("5" in m for m in messages)
    assert first.status_code == 200
    assert sync.read_sync_state(top_shop.pk)["manual_sync_by"] == "admin"

    later = timezone.now() + timedelta(minutes=5, seconds=1)
    sync.request_manual_sync(shop_id=top_shop.pk, actor="someone", now=later)


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_start_one_sync(make_shop):
    shop = make_shop(code="TB01", platform="taobao", api_base_url="http://127.0.0.1:1")
    passed, refused = [], []
    barrier = threading.Barrier(2)

    def click():
        try:
            barrier.wait()
            sync.request_manual_sync(shop_id=shop.pk, actor="x")
            passed.append(1)
        except sync.TooSoon:
            refused.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(passed), len(refused)) == (1, 1)


def test_parked_messages_are_sent_again_from_the_outbox_admin(admin_client, top_shop, admin_user):
    msg = OutboxMessage.objects.create(
        shop=top_shop,
        kind="shipment",
        dedupe_key="shipment:9",
        status="parked",
        attempts=15,
        last_error="x",
    )
    response = admin_client.post(
        reverse("admin:channels_outboxmessage_changelist"),
        {"action": "retry_parked", "_selected_action": [msg.pk]},
        follow=True,
    )
    msg.refresh_from_db()
    assert response.status_code == 200
    assert (msg.status, msg.attempts, msg.retried_by) == ("pending", 0, admin_user)


# --- file platforms ----------------------------------------------------------------------


@pytest.fixture
def feiniu(make_shop, make_product, main_warehouse):
    shop = make_shop(code="FN01", platform="feiniu")
    product = make_product()
    stock.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=9, actor=None)
    for sku, qty in (("FN-A", "1"), ("FN-B", "2")):
        mapping = SkuMapping.objects.create(shop=shop, platform_sku=sku)
        SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal(qty))
    recompute_sellable([product.id])
    return shop


def rows(content):
    ws = load_workbook(io.BytesIO(content)).active
    return [list(r) for r in ws.iter_rows(values_only=True)][1:]


def test_a_file_shop_stock_export_lists_every_sku_and_then_only_changes(feiniu):
    full = export_stock(shop=feiniu, actor="t")
    assert [r[:2] for r in rows(full.content)] == [["FN-A", 9], ["FN-B", 4]]
    assert export_stock(shop=feiniu, actor="t", changed_only=True).rows == 0


def queue_notice(shop, n=55):
    notices.enqueue(
        shop=shop,
        kind="shipment",
        dedupe_key=f"shipment:{n}",
        payload={
            "order_no": f"SO{n}",
            "platform_order_no": "FN-9",
            "carrier": "SF",
            "tracking_no": f"SF{n}",
            "platform_line_ids": [],
            "is_split": False,
        },
    )


def test_tracking_numbers_are_exported_once_once_the_file_is_delivered(feiniu):
    queue_notice(feiniu)
    first = export_tracking(shop=feiniu, actor="t")
    # built but not delivered: nothing is marked yet, the next file lists it again
    assert OutboxMessage.objects.get().status == "pending"
    assert export_tracking(shop=feiniu, actor="t").rows == 1

    assert confirm_tracking_export(export=first, actor="t") == 1

    again = export_tracking(shop=feiniu, actor="t")
    assert rows(first.content)[0][:4] == ["SO55", "FN-9", "SF", "SF55"]
    assert again.rows == 0
    assert OutboxMessage.objects.get().status == "sent"


def download_tracking(admin_client, shop):
    return admin_client.post(
        reverse("admin:channels_shopsyncstatus_changelist"),
        {"action": "export_tracking_file", "_selected_action": [shop.pk]},
    )


def test_a_downloaded_tracking_file_marks_its_notices_sent_when_the_download_completes(
    admin_client, feiniu
):
    queue_notice(feiniu)
    response = download_tracking(admin_client, feiniu)
    assert OutboxMessage.objects.get().status == "pending"  # the file is on its way

    content = b"".join(response.streaming_content)  # the server sent it all

    assert rows(content)[0][:4] == ["SO55", "FN-9", "SF", "SF55"]
    assert OutboxMessage.objects.get().status == "sent"


def test_a_broken_download_leaves_the_notices_for_the_next_file(admin_client, feiniu):
    queue_notice(feiniu)
    response = download_tracking(admin_client, feiniu)
    chunks = iter(response.streaming_content)
    next(chunks)  # the connection drops: the server never asks for the rest

    assert OutboxMessage.objects.get().status == "pending"
    assert export_tracking(shop=feiniu, actor="t").rows == 1


def test_the_export_command_marks_the_notices_sent_once_the_file_is_written(feiniu, tmp_path):
    from django.core.management import call_command

    queue_notice(feiniu)
    out = tmp_path / "t.xlsx"
    call_command("channel_export", "FN01", "tracking", "--out", str(out), stdout=io.StringIO())

    assert rows(out.read_bytes())[0][0] == "SO55"
    assert OutboxMessage.objects.get().status == "sent"


def test_file_shops_are_never_drained_over_http(feiniu):
    notices.enqueue(shop=feiniu, kind="shipment", dedupe_key="shipment:56", payload={})
    assert outbox.drain().sent == 0
    assert OutboxMessage.objects.get().status == "pending"


def test_an_api_shop_cannot_be_exported_to_a_file(top_shop):
    with pytest.raises(NotAFileShop):
        export_stock(shop=top_shop, actor="t")
