"""check_stock and ensure_admin."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from inventory import services

pytestmark = pytest.mark.django_db


def run(name):
    out = io.StringIO()
    try:
        call_command(name, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_check_stock_passes_when_every_level_equals_its_ledger(main_warehouse, make_product):
    product = make_product()
    services.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=4, actor=None)

    code, out = run("check_stock")

    assert code == 0 and "every level equals its ledger" in out


def test_check_stock_exits_1_listing_a_level_that_differs_from_its_ledger(
    main_warehouse, make_product
):
    product = make_product(code="DRIFT-1")
    services.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=4, actor=None)
    with connection.cursor() as cur:  # someone edited the level behind the services' back
        cur.execute(
            "UPDATE inventory_stocklevel SET on_hand = 9 WHERE product_id = %s", [product.id]
        )

    code, out = run("check_stock")

    assert code == 1
    assert "DRIFT-1" in out and "on_hand 9.0000 != ledger 4.0000" in out


def test_ensure_admin_creates_an_administrator_once_and_prints_its_password():
    code, out = run("ensure_admin")
    assert code == 0 and "password:" in out
    password = out.split("password:")[1].split()[0]
    assert User.objects.get(username="admin").check_password(password)

    code, out = run("ensure_admin")
    assert "password" not in out
    assert User.objects.filter(is_superuser=True).count() == 1
