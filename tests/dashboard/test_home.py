"""Each role lands on its own home page (工作台) with its work queues and today's charts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.clock import frozen
from orders.models import Order

from .conftest import NOW

pytestmark = pytest.mark.django_db


def home(client, user):
    client.force_login(user)
    with frozen(NOW):
        return client.get("/admin/")


def test_a_reviewer_sees_the_queue_stock_short_and_unmapped_with_counts(client, person, orders_in):
    orders_in("TM01", 3)
    orders_in("JD01", 2, on_hand=0)  # held: stock short

    page = home(client, person("reviewer"))

    assert page.status_code == 200
    items = {i["queue"].key: i["count"] for s in page.context["sections"] for i in s["items"]}
    assert list(items) == ["to_review", "stock_short", "unmapped", "outbox_parked"]
    assert str(items["to_review"]) == "3"
    assert str(items["stock_short"]) == "2"
    assert str(items["unmapped"]) == "0"
    html = page.content.decode()
    assert "工作台" in html or "待审核" in html
    assert 'href="/admin/orders/reviewqueueorder/?hold=none"' in html


def test_a_queue_longer_than_the_bound_reads_1000_plus_without_counting_it_all(
    client, person, orders_in, settings
):
    from core import counts

    orders_in("TM01", 12)
    counts_limit = counts.DEFAULT_LIMIT
    try:
        counts.bounded_count.__defaults__ = (10,)
        page = home(client, person("reviewer"))
    finally:
        counts.bounded_count.__defaults__ = (counts_limit,)
    to_review = page.context["sections"][0]["items"][0]["count"]
    assert str(to_review) == "10+"


def test_the_home_page_runs_no_count_over_a_whole_table(client, person, orders_in):
    orders_in("TM01", 3)
    user = person("superuser")
    client.force_login(user)
    with frozen(NOW), CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/")
    assert page.status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    # Every count runs over a LIMITed subquery (bounded) or a group of today's rows.
    unbounded = [
        sql for sql in counts if "LIMIT" not in sql.upper() and "GROUP BY" not in sql.upper()
    ]
    assert unbounded == []


def test_the_warehouse_sees_its_queues_and_the_scan_page_first(client, person, orders_in):
    from orders.services import review

    orders = orders_in("TM01", 2)
    worker = person("warehouse")
    review.approve_orders(orders=orders, actor=person("reviewer"))

    page = home(client, worker)

    items = {i["queue"].key: i["count"] for s in page.context["sections"] for i in s["items"]}
    assert list(items) == ["to_print", "open_waves", "to_verify", "to_hand_over", "outbox_parked"]
    assert str(items["to_print"]) == "2"
    assert 'id="scan-link" href="/warehouse/"' in page.content.decode()
    assert Order.objects.filter(status="reviewed").count() == 2


def test_the_orders_per_hour_chart_counts_todays_orders_by_shop(client, person, orders_in):
    with frozen(NOW):
        orders_in("TM01", 3)
        orders_in("JD01", 1)

    page = home(client, person("auditor"))

    chart = page.context["charts"]["orders_per_hour"]
    assert chart["total"] == 4
    assert [str(item["shop"].code) for item in chart["legend"]] == ["TM01", "JD01"]


def test_role_groups_show_their_chinese_names_on_the_group_and_user_pages(client, person):
    boss = person("superuser")
    packer = person("warehouse")
    client.force_login(boss)

    groups = client.get("/admin/auth/group/").content.decode()
    users = client.get("/admin/auth/user/").content.decode()
    change = client.get(f"/admin/auth/user/{packer.pk}/change/").content.decode()

    assert "售后审核" in groups and "仓库" in groups
    assert "仓库" in users
    assert ">仓库<" in change.replace("\n", "").replace("  ", "")


def test_a_stock_short_product_says_how_much_is_missing_and_leads_to_its_orders(
    client, person, orders_in
):
    orders_in("JD01", 2, on_hand=0)  # two orders of one unit each, nothing in stock

    page = home(client, person("reviewer"))

    html = page.content.decode()
    (row,) = page.context["charts"]["stock_short_products"]
    assert row["url"] == f"/admin/orders/order/?hold=stock_short&product={row['product'].code}"
    assert f'href="{row["url"]}"' in html.replace("&amp;", "&")
    assert "需 2，可用 0" in html
    listed = client.get(row["url"])
    assert listed.context["cl"].result_count == 2


def test_a_product_in_stock_is_not_listed_as_stock_short(client, person, flow):
    """An order waits for its tea; its cup, plentiful, is not what is short."""
    cup, tea = flow.products(("CUP", "保温杯"), ("TEA", "龙井茶"))
    flow.sku("SKU-SET", cup, tea)
    flow.stock(cup, 50)
    flow.order([("SKU-SET", 2)])  # held stock short: no tea

    page = home(client, person("reviewer"))

    rows = page.context["charts"]["stock_short_products"]
    assert [(r["product"].code, r["needed"], r["available"]) for r in rows] == [("TEA", 2, 0)]
