"""Store fixtures, made through the services: a store (shop + two locations), garments with
style, colour and size, stock received into the store and the main warehouse, staff."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from core.clock import frozen
from inventory import services as stock
from inventory.models import Product, StockLevel, Warehouse
from orders.models import Order
from stores import services

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with frozen(T0) as at:
        yield at


@pytest.fixture
def store(db):
    return services.create_store(
        code="MD01",
        name="上海体验店",
        province="上海市",
        city="上海市",
        district="静安区",
        address="南京西路1号",
        phone="021-00000000",
    )


@pytest.fixture
def other_store(db):
    return services.create_store(
        code="MD02", name="杭州体验店", province="浙江省", city="杭州市", address="湖滨路2号"
    )


@pytest.fixture
def garments(db):
    """Style TX2601: white and black, S/M/L, 99.00 each."""
    made = {}
    for colour, c in (("白色", "01"), ("黑色", "02")):
        for size in ("S", "M", "L"):
            code = f"TX2601-{c}-{size}"
            made[code] = Product.objects.create(
                code=code,
                name=f"纯棉圆领T恤 {colour} {size}",
                barcode=f"69260{c}{size}",
                list_price=Decimal("99.00"),
                style_code="TX2601",
                colour=colour,
                size=size,
            )
    return made


def put(warehouse_id, items):
    stock.receive(
        warehouse_id=warehouse_id,
        items=[(p.pk, Decimal(q)) for p, q in items],
        actor=None,
        document="test:stock",
    )


@pytest.fixture
def stocked(store, garments):
    """The store: one sample of each, 2 of white S and 1 of white M to take away; main: 10 each."""
    put(store.sample_location_id, [(p, 1) for p in garments.values()])
    put(store.location_id, [(garments["TX2601-01-S"], 2), (garments["TX2601-01-M"], 1)])
    put(Warehouse.main().pk, [(p, 10) for p in garments.values()])
    return garments


@pytest.fixture
def guide(store):
    user = User.objects.create_user("guide1", password="guide-pass-123")
    services.add_staff(store=store, user=user, role="store_guide", staff_code="G001")
    return user


@pytest.fixture
def manager(store):
    user = User.objects.create_user("manager1", password="manager-pass-123")
    services.add_staff(store=store, user=user, role="store_manager")
    return user


def level(warehouse_id, product):
    row = StockLevel.objects.filter(warehouse_id=warehouse_id, product=product).first()
    return (row.on_hand, row.reserved) if row else (Decimal(0), Decimal(0))


def order_of(**kwargs) -> Order:
    return Order.objects.get(**kwargs)


# --- members and promotions (through the promotions' services) --------------------------------


@pytest.fixture
def enrol(store, clock):
    """Enrol a member at the store's counter: the SMS code through the console provider."""
    import re

    from promotions import services as promotions
    from promotions.sms import ConsoleSms

    def make(phone="13812345678", name=""):
        promotions.send_enrolment_code(phone=phone, sms=ConsoleSms())
        text = [t for to, t in ConsoleSms.outbox if to == phone][-1]
        return promotions.enrol_member(
            phone=phone,
            code=re.search(r"\d{6}", text).group(0),
            consent=True,
            consent_place=f"{store.code} 柜台",
            home_store=store.code,
            name=name,
        )

    return make


@pytest.fixture
def promote(store, manager, clock):
    """Run a promotion in the store: made by its manager, approved by another manager."""
    from config.roles import sync_role_permissions
    from promotions import services as promotions

    sync_role_permissions()  # a transactional test's flush may have emptied the roles
    approver = User.objects.create_user("manager2", password="manager-pass-456")
    services.add_staff(store=store, user=approver, role="store_manager")

    def make(code, **fields):
        fields.setdefault("name", code)
        fields.setdefault("store_codes", [store.code])
        fields.setdefault("starts_at", T0 - dt.timedelta(days=1))
        fields.setdefault("ends_at", T0 + dt.timedelta(days=60))
        made = promotions.create_promotion(actor=manager, code=code, **fields)
        return promotions.approve_promotion(promotion=made, actor=approver)

    return make


CASHBACK_200_20 = {
    "name": "满200返20",
    "kind": "cashback",
    "tiers": [{"threshold": "200", "amount": "20"}],
}
SAVE_320_50 = {
    "name": "满320减50",
    "kind": "spend_and_save",
    "tiers": [{"threshold": "320", "amount": "50"}],
}
