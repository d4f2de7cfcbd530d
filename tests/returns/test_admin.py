from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockMove
from inventory.selectors import ledger_mismatches
from orders.models import Order
from returns.models import ReturnOrder
from returns.services import approve_return, create_return, upsert_platform_return

pytestmark = pytest.mark.django_db

S = ReturnOrder.Status


def url(name, *args):
    return reverse(f"admin:returns_returnorder_{name}", args=args)


def logged_in(client, user, language="en"):
    client.force_login(user)
    client.cookies["django_language"] = language  # the switcher's choice
    return client


def make_return(order, actor, quantity="1", tracking="SF0001"):
    return create_return(
        order=order,
        lines=[(order.line_a, D(quantity), D("10"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="质量问题",
        refund_amount=D("10"),
        return_tracking_no=tracking,
        actor=actor,
    )


def test_after_sales_picks_the_order_by_number_and_creates_a_return(
    client, simple_order, after_sales
):
    c = logged_in(client, after_sales)
    page = c.get(url("add"))
    assert page.status_code == 200 and "order_number" in page.content.decode()

    picked = c.post(url("add"), {"order_number": simple_order.platform_order_no})
    assert picked.status_code == 302
    assert picked["Location"] == url("create_from_order", simple_order.pk)

    form = c.get(picked["Location"])
    assert "SKU-BUNDLE" in form.content.decode()
    done = c.post(
        picked["Location"],
        {
            "kind": "return_goods",
            "reason": "尺码不合适",
            "refund_amount": "20.00",
            "return_tracking_no": "YT777",
            f"qty_{simple_order.line_a.pk}": "2",
            f"amount_{simple_order.line_a.pk}": "",
            f"qty_{simple_order.line_bundle.pk}": "0",
        },
    )
    ro = ReturnOrder.objects.get()
    assert done.status_code == 302 and done["Location"] == url("change", ro.pk)
    assert (ro.created_by, ro.return_tracking_no, ro.status) == (after_sales, "YT777", S.SUBMITTED)
    line = ro.lines.get()
    assert (line.quantity, line.amount) == (D("2"), D("20.00"))  # amount defaults to price × qty


def test_an_unknown_order_number_is_refused(client, simple_order, after_sales):
    page = logged_in(client, after_sales).post(url("add"), {"order_number": "NOPE"})
    assert page.status_code == 200 and "No order has this number" in page.content.decode()


def test_the_create_form_shows_the_services_refusal_and_creates_nothing(
    client, simple_order, after_sales
):
    page = logged_in(client, after_sales).post(
        url("create_from_order", simple_order.pk),
        {
            "kind": "return_goods",
            "reason": "质量问题",
            "refund_amount": "10",
            f"qty_{simple_order.line_a.pk}": "5",
        },
    )
    assert page.status_code == 200
    assert "only 3 can still be returned" in page.content.decode()
    assert not ReturnOrder.objects.exists()


def test_the_create_form_refuses_an_unshipped_order(
    client, make_shipped_order, product, after_sales
):
    order = make_shipped_order(
        [("SKU-A", "1", "10", [(product("X1"), "1")])], status=Order.Status.PRINTED
    )
    c = logged_in(client, after_sales)
    assert "has not been shipped" in c.get(url("create_from_order", order.pk)).content.decode()
    page = c.post(
        url("create_from_order", order.pk),
        {
            "kind": "return_goods",
            "reason": "质量问题",
            "refund_amount": "1",
            f"qty_{order.lines.get().pk}": "1",
        },
    )
    assert "has not been shipped" in page.content.decode()
    assert not ReturnOrder.objects.exists()


def test_a_reviewer_approves_from_the_return_page(client, simple_order, after_sales, reviewer):
    ro = make_return(simple_order, after_sales)
    c = logged_in(client, reviewer)
    page = c.get(url("change", ro.pk)).content.decode()
    assert url("approve", ro.pk) in page and url("receive", ro.pk) not in page

    response = c.post(url("approve", ro.pk), {"note": "同意"})
    assert response.status_code == 302
    ro.refresh_from_db()
    assert ro.status == S.APPROVED and ro.reviewed_by == reviewer
    history = c.get(url("change", ro.pk)).content.decode()
    assert "shenhe" in history and "同意" in history


def test_a_reviewer_rejects_with_a_reason_from_the_return_page(
    client, simple_order, after_sales, reviewer
):
    ro = make_return(simple_order, after_sales)
    c = logged_in(client, reviewer)
    assert c.post(url("reject", ro.pk), {"reason": ""}).status_code == 200  # the form asks again
    c.post(url("reject", ro.pk), {"reason": "已超过七天"})
    ro.refresh_from_db()
    assert ro.status == S.REJECTED and ro.reject_reason == "已超过七天"


def test_in_the_admin_too_nobody_approves_their_own_return(client, simple_order, both_roles):
    ro = make_return(simple_order, both_roles)
    c = logged_in(client, both_roles)
    page = c.get(url("change", ro.pk)).content.decode()
    assert "another reviewer must approve" in page

    response = c.post(url("approve", ro.pk), {"note": ""}, follow=True)
    assert "another reviewer" in response.content.decode()
    c.post(
        url("changelist"),
        {"action": "approve_selected", "_selected_action": [ro.pk]},
        follow=True,
    )
    ro.refresh_from_db()
    assert ro.status == S.SUBMITTED


def test_reviewers_approve_many_from_the_list(client, simple_order, after_sales, reviewer):
    first = make_return(simple_order, after_sales)
    second = make_return(simple_order, after_sales)
    logged_in(client, reviewer).post(
        url("changelist"),
        {"action": "approve_selected", "_selected_action": [first.pk, second.pk]},
    )
    assert set(ReturnOrder.objects.values_list("status", flat=True)) == {S.APPROVED}


def test_after_sales_staff_cannot_review(client, simple_order, after_sales):
    ro = make_return(simple_order, after_sales)
    c = logged_in(client, after_sales)
    assert c.post(url("approve", ro.pk), {}).status_code == 403
    assert c.post(url("reject", ro.pk), {"reason": "x"}).status_code == 403
    ro.refresh_from_db()
    assert ro.status == S.SUBMITTED


def test_the_auditor_sees_everything_and_changes_nothing(
    client, simple_order, after_sales, auditor
):
    ro = make_return(simple_order, after_sales)
    c = logged_in(client, auditor)
    assert c.get(url("changelist")).status_code == 200
    assert c.get(url("change", ro.pk)).status_code == 200
    assert c.get(url("receipt_pdf", ro.pk)).status_code == 200
    assert c.get(url("add")).status_code == 403
    assert c.get(url("create_from_order", simple_order.pk)).status_code == 403
    for action in ("approve", "reject", "receive", "close"):
        assert c.post(url(action, ro.pk), {"reason": "x", "note": "x"}).status_code == 403
    ro.refresh_from_db()
    assert ro.status == S.SUBMITTED


def test_after_sales_receives_the_goods_split_between_warehouses(
    client, simple_order, after_sales, reviewer
):
    ro = make_return(simple_order, after_sales, quantity="2")
    approve_return(return_order=ro, actor=reviewer)
    line = ro.lines.get()
    a = simple_order.products["A"]
    c = logged_in(client, after_sales)
    form = c.get(url("receive", ro.pk)).content.decode()
    assert "A001" in form

    too_many = c.post(
        url("receive", ro.pk),
        {f"main_{line.pk}_{a.pk}": "2", f"defective_{line.pk}_{a.pk}": "1", "finish": "on"},
    )
    assert "at most 2 more" in too_many.content.decode()
    assert not StockMove.objects.filter(document=f"return:{ro.pk}").exists()

    c.post(
        url("receive", ro.pk),
        {f"main_{line.pk}_{a.pk}": "1", f"defective_{line.pk}_{a.pk}": "1", "finish": "on"},
    )
    ro.refresh_from_db()
    assert ro.status == S.RECEIVED
    moves = StockMove.objects.filter(document=f"return:{ro.pk}")
    assert sorted((m.warehouse.kind, m.quantity) for m in moves) == [
        ("defective", D("1")),
        ("main", D("1")),
    ]
    assert ledger_mismatches() == []

    c.post(url("close", ro.pk), {"note": ""})
    ro.refresh_from_db()
    assert ro.status == S.CLOSED


def test_the_list_searches_by_every_number(client, simple_order, after_sales):
    ro = make_return(simple_order, after_sales, tracking="ZTO-42")
    c = logged_in(client, after_sales)
    for term in (ro.return_no, simple_order.order_no, simple_order.platform_order_no, "ZTO-42"):
        page = c.get(url("changelist"), {"q": term}).content.decode()
        assert ro.return_no in page, term
    assert ro.return_no not in c.get(url("changelist"), {"q": "nothing-like-it"}).content.decode()


def test_the_list_filters_by_state_shop_platform_reason_and_date(
    client, simple_order, make_shipped_order, other_shop, product, after_sales, reviewer
):
    ours = make_return(simple_order, after_sales)
    other_order = make_shipped_order([("SKU-J", "1", "9", [(product("J1"), "1")])], shop=other_shop)
    theirs, _ = upsert_platform_return(
        shop=other_shop,
        order=other_order,
        platform_refund_id="JD-1",
        kind=ReturnOrder.Kind.RETURN_GOODS,
        lines=[(other_order.lines.get(), D("1"), D("9"))],
        reason="七天无理由",
        refund_amount=D("9"),
    )
    approve_return(return_order=theirs, actor=reviewer)
    c = logged_in(client, after_sales)

    def listed(**params):
        page = c.get(url("changelist"), params).content.decode()
        return {ro.return_no for ro in (ours, theirs) if ro.return_no in page}

    assert listed(status__exact="approved") == {theirs.return_no}
    assert listed(shop__id__exact=simple_order.shop_id) == {ours.return_no}
    assert listed(shop__platform__id__exact=other_shop.platform_id) == {theirs.return_no}
    assert listed(reason="质量问题") == {ours.return_no}
    today = timezone.localdate(ours.created_at).isoformat()
    assert listed(created_at__gte=today) == {ours.return_no, theirs.return_no}
    assert listed(created_at__gte="2999-01-01") == set()


def test_the_return_receipt_pdf_is_served_from_the_return_page(client, simple_order, after_sales):
    ro = make_return(simple_order, after_sales)
    response = logged_in(client, after_sales).get(url("receipt_pdf", ro.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_screens_speak_chinese_by_default(client, simple_order, after_sales):
    c = logged_in(client, after_sales, language="zh-hans")
    page = c.post(
        url("create_from_order", simple_order.pk),
        {
            "kind": "return_goods",
            "reason": "质量问题",
            "refund_amount": "10",
            f"qty_{simple_order.line_a.pk}": "5",
        },
    ).content.decode()
    assert "退货数量超过了发货数量" in page and "最多还能退 3" in page
    assert "可退数量" in page and "退货物流单号" in page


def test_a_shipped_orders_page_offers_after_sales_to_create_a_return(
    client, simple_order, after_sales
):
    c = logged_in(client, after_sales)
    link = url("create_from_order", simple_order.pk)

    page = c.get(reverse("admin:orders_order_change", args=[simple_order.pk]))
    assert page.status_code == 200 and link in page.content.decode()

    Order.objects.filter(pk=simple_order.pk).update(status=Order.Status.VERIFIED)
    page = c.get(reverse("admin:orders_order_change", args=[simple_order.pk]))
    assert link not in page.content.decode()
