from decimal import Decimal

import pytest

from inventory import services
from inventory.models import Reservation, StockLevel, StockMove
from inventory.selectors import ledger_mismatches, reservation_mismatches

pytestmark = pytest.mark.django_db


def level(warehouse, product):
    return StockLevel.objects.get(warehouse=warehouse, product=product)


def test_reserving_more_than_available_reserves_nothing(main_warehouse, make_product):
    a, b = make_product(), make_product()
    services.adjust(warehouse_id=main_warehouse.id, product_id=a.id, quantity=5, actor=None)
    services.adjust(warehouse_id=main_warehouse.id, product_id=b.id, quantity=1, actor=None)

    with pytest.raises(services.InsufficientStock) as err:
        services.reserve(document="order:1", items=[(a.id, Decimal("2")), (b.id, Decimal("3"))])

    assert [s.product_id for s in err.value.shortages] == [b.id]
    assert level(main_warehouse, a).reserved == 0
    assert not Reservation.objects.filter(document="order:1").exists()


def test_shipping_turns_the_reservation_into_a_ledger_deduction(main_warehouse, make_product):
    a = make_product()
    services.adjust(warehouse_id=main_warehouse.id, product_id=a.id, quantity=10, actor=None)
    services.reserve(document="order:7", items=[(a.id, Decimal("2.5"))])

    services.ship(document="order:7", actor=None)

    lv = level(main_warehouse, a)
    assert (lv.on_hand, lv.reserved) == (Decimal("7.5"), Decimal("0"))
    assert StockMove.objects.filter(document="order:7", reason="ship").get().quantity == Decimal(
        "-2.5"
    )
    assert ledger_mismatches() == [] and reservation_mismatches() == []


def test_releasing_part_of_a_reservation_keeps_the_rest(main_warehouse, make_product):
    a = make_product()
    services.adjust(warehouse_id=main_warehouse.id, product_id=a.id, quantity=10, actor=None)
    services.reserve(document="order:8", items=[(a.id, Decimal("4"))])

    services.release(document="order:8", items=[(a.id, Decimal("1"))])

    assert level(main_warehouse, a).reserved == Decimal("3")
    assert Reservation.objects.get(document="order:8").quantity == Decimal("3")


def test_the_ledger_refuses_to_be_rewritten(main_warehouse, make_product):
    from django.db import DatabaseError, transaction

    a = make_product()
    (move,) = services.adjust(
        warehouse_id=main_warehouse.id, product_id=a.id, quantity=3, actor=None
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMove.objects.filter(pk=move.pk).update(quantity=Decimal("30"))


def test_a_recreated_main_warehouse_is_used_by_reservations(main_warehouse, make_product):
    a = make_product()
    services.main_warehouse_id()  # cached
    main_warehouse.delete()
    new_main = main_warehouse.__class__.objects.create(code="MAIN2", name="新总仓", kind="main")
    services.adjust(warehouse_id=new_main.id, product_id=a.id, quantity=3, actor=None)

    services.reserve(document="order:9", items=[(a.id, Decimal("1"))])

    assert level(new_main, a).reserved == Decimal("1")


def test_a_rolled_back_warehouse_change_leaves_no_wrong_id_behind(main_warehouse):
    from django.db import transaction

    from inventory.models import Warehouse

    class Undo(Exception):
        pass

    original_id = main_warehouse.id
    with pytest.raises(Undo), transaction.atomic():
        main_warehouse.delete()
        Warehouse.objects.create(code="TEMP", name="临时总仓", kind="main")
        services.main_warehouse_id()
        raise Undo

    assert services.main_warehouse_id() == original_id


def test_bulk_reservation_of_new_documents_reserves_each_in_turn_or_nothing(
    main_warehouse, make_product
):
    a = make_product()
    services.adjust(warehouse_id=main_warehouse.id, product_id=a.id, quantity=5, actor=None)

    short = services.reserve_many(
        [("order:1", [(a.id, Decimal("3"))]), ("order:2", [(a.id, Decimal("3"))])],
        new_documents=True,
    )

    assert short == ["order:2"]
    assert services.reserved_for("order:1") == {(main_warehouse.id, a.id): Decimal("3")}
    assert services.reserved_for("order:2") == {}
    assert level(main_warehouse, a).reserved == 3
    assert reservation_mismatches() == []


def test_bulk_reservation_for_new_documents_refuses_one_that_already_holds_stock(
    main_warehouse, make_product
):
    from django.db import IntegrityError

    a = make_product()
    services.adjust(warehouse_id=main_warehouse.id, product_id=a.id, quantity=5, actor=None)
    services.reserve(document="order:1", items=[(a.id, Decimal("1"))])

    with pytest.raises(IntegrityError):
        services.reserve_many([("order:1", [(a.id, Decimal("2"))])], new_documents=True)

    assert services.reserved_for("order:1") == {(main_warehouse.id, a.id): Decimal("1")}
    assert level(main_warehouse, a).reserved == 1
