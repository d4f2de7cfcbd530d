"""Two people at once: real concurrent connections (threads), against real PostgreSQL."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection
from django.utils import translation

from inventory.models import StockLevel, StockMove
from inventory.selectors import ledger_mismatches
from returns.models import ReturnOrder, ReturnReceipt
from returns.services import (
    ReturnError,
    approve_return,
    create_return,
    receive_return,
    upsert_platform_return,
)

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*calls):
    """Run the calls in threads released at the same moment; return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def worker(call):
        try:
            barrier.wait()
            with translation.override("en"):
                results.append(call())
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


def test_two_receipts_of_the_same_return_at_once_cannot_over_receive(
    simple_order, after_sales, reviewer, warehouses
):
    main, defective = warehouses
    a = simple_order.products["A"]
    ro = create_return(
        order=simple_order,
        lines=[(simple_order.line_a, D("3"), D("30"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="质量问题",
        refund_amount=D("30"),
        actor=after_sales,
    )
    approve_return(return_order=ro, actor=reviewer)
    line = ro.lines.get()

    def receive(main_qty, defective_qty):
        return lambda: receive_return(
            return_order=ro,
            receipts=[(line, a, D(main_qty), D(defective_qty))],
            actor=after_sales,
            finish=False,
        )

    results, errors = run_together(receive("2", "0"), receive("0", "2"))

    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ReturnError) and "at most 1 more" in errors[0].message
    total = sum(ReturnReceipt.objects.values_list("quantity", flat=True), D("0"))
    assert total == D("2")
    moved = sum(
        StockMove.objects.filter(document=f"return:{ro.pk}").values_list("quantity", flat=True),
        D("0"),
    )
    assert moved == D("2")
    levels = StockLevel.objects.filter(product=a, warehouse__in=[main, defective])
    assert sum(level.on_hand for level in levels) == D("2")
    assert ledger_mismatches() == []


def test_two_returns_created_at_once_cannot_take_more_than_was_shipped(simple_order, after_sales):
    def create():
        return create_return(
            order=simple_order,
            lines=[(simple_order.line_a, D("2"), D("20"))],
            kind=ReturnOrder.Kind.RETURN_GOODS,
            reason="质量问题",
            refund_amount=D("20"),
            actor=after_sales,
        )

    results, errors = run_together(create, create)

    assert len(results) == 1 and len(errors) == 1
    assert "only 1 can still be returned" in errors[0].message
    assert ReturnOrder.objects.count() == 1


def test_the_same_platform_refund_pulled_twice_at_once_is_one_return(simple_order):
    def pull():
        return upsert_platform_return(
            shop=simple_order.shop,
            order=simple_order,
            platform_refund_id="RF-RACE",
            kind=ReturnOrder.Kind.RETURN_GOODS,
            lines=[(simple_order.line_a, D("1"), D("10"))],
            reason="七天无理由",
            refund_amount=D("10"),
        )

    results, errors = run_together(pull, pull, pull)

    assert errors == []
    assert sorted(created for _ro, created in results) == [False, False, True]
    assert ReturnOrder.objects.filter(platform_refund_id="RF-RACE").count() == 1
