"""The sync status page and the outbox say what their figures and errors mean: the pull's two
figures in a sentence, and a platform's answer behind a sentence in the reader's language."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from channels.models import OutboxMessage, SkuComponent, SkuMapping
from channels.sellable import recompute_sellable
from inventory import services as stock
from platformsync import outbox, sync

from .conftest import credentials

pytestmark = pytest.mark.django_db


def soon():
    return datetime.now(UTC) + timedelta(seconds=2)


def page_text(client, url, language=None):
    if language:
        client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_sync_page_says_what_the_two_pull_figures_are(admin_client, sandbox, top_shop):
    sandbox.generate(platform="top", count=3)
    first = sync.pull_orders(shop=top_shop, now=soon())
    now = datetime.now(UTC)
    sandbox.generate(
        platform="top", count=2, start=now - timedelta(seconds=20), end=now - timedelta(seconds=2)
    )
    second = sync.pull_orders(shop=top_shop, now=soon())
    total = first.read + second.read
    assert first.read == 3 and second.read >= 2

    listing = reverse("admin:channels_shopsyncstatus_changelist")
    page = reverse("admin:channels_shopsyncstatus_change", args=[top_shop.pk])
    chinese = f"上次拉取读到 {second.read} 个订单（新增或有变化），自接入以来共 {total} 个"
    assert chinese in page_text(admin_client, page)
    listed = page_text(admin_client, listing)  # a column each, its header saying what it is
    assert "上次拉取读到的订单" in listed and "自接入以来拉取的订单" in listed
    assert f'<td class="field-orders_last_pull">{second.read}</td>' in listed
    assert f'<td class="field-orders_in_all">{total}</td>' in listed
    assert f"{second.read} / {total}" not in page_text(admin_client, page)
    english = (
        f"{second.read} read by the last pull (new or changed), "
        f"{total} since the shop was connected"
    )
    assert english in page_text(admin_client, page, language="en")


def test_a_refused_pull_is_said_in_chinese_before_the_platforms_answer(
    admin_client, sandbox, make_shop
):
    shop = make_shop(
        code="TB01",
        platform="taobao",
        api_base_url=sandbox.url,
        credentials=credentials("top", session="not-a-session"),
    )
    result = sync.pull_orders(shop=shop, now=soon())
    assert result.error  # the sandbox refused the session, as TOP does

    text = page_text(admin_client, reverse("admin:channels_shopsyncstatus_change", args=[shop.pk]))
    said = text.index("拉取订单中断")
    why = text.index("平台不接受店铺的 API 凭据")
    answer = text.index(result.error.replace("&", "&amp;"))
    assert said < why < answer  # what, why, then the platform's own words


def test_a_failed_stock_call_reads_as_what_was_not_sent_and_why(
    admin_client, sandbox, top_shop, make_product, main_warehouse
):
    product = make_product()
    stock.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=5, actor=None)
    mapping = SkuMapping.objects.create(shop=top_shop, platform_sku="TB-SKU-1")
    SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal(1))
    recompute_sellable([product.id])
    sandbox.fault("rate_limit", platform="top", times=50)

    outbox.drain()

    message = OutboxMessage.objects.get(shop=top_shop, kind=OutboxMessage.Kind.STOCK)
    assert message.status == "pending" and message.attempts == 1 and message.last_error

    sync_page = page_text(
        admin_client, reverse("admin:channels_shopsyncstatus_change", args=[top_shop.pk])
    )
    assert "平台商品编码 TB-SKU-1 的库存未发出" in sync_page
    assert "调用太频繁" in sync_page
    assert message.dedupe_key not in sync_page  # the key is for the machine, not for people
    outbox_list = page_text(admin_client, reverse("admin:channels_outboxmessage_changelist"))
    assert "调用太频繁" in outbox_list and "平台商品编码 TB-SKU-1" in outbox_list


@pytest.mark.parametrize(
    "answer, said",
    [
        ("交易不存在 [15/isv.trade-not-exist]", "平台拒绝了这次调用"),  # TOP: the call's fault
        ("Remote service error [15/isp.remote-service-error]", "平台服务器没有正常应答"),
        ("App Call Limited [7/accesscontrol.limited-by-app-access-count]", "调用太频繁"),
        ("Invalid session [27]", "平台不接受店铺的 API 凭据"),
        ("调用次数超限 [2]", "调用太频繁"),  # JD
        ("HTTP 502 [502]", "平台服务器没有正常应答"),
        ("timeout after 10 s", "连不上平台"),
        ("订单不存在", "平台拒绝了这次调用"),
    ],
)
def test_each_kind_of_platform_answer_reads_as_its_own_sentence(answer, said):
    from django.utils import translation

    from platformsync.errors import in_words

    with translation.override("zh-hans"):
        text = in_words(answer)
    assert text.startswith(said) and text.endswith(answer)
