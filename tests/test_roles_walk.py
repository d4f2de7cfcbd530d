"""The roles walk: every registered admin, each of its actions and each of its URLs, the warehouse
pages and the ERP API, for every role of config/roles.py, anonymous visitors and superusers.

Built from what is registered, not from a list: an app added later (stores, promotions) is
walked too, and a new admin action without a permission, or a page that lets the auditor
change something, fails here.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import connection
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from config.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db

ROLES = sorted(ROLE_PERMISSIONS)
STANDARD = ("changelist", "add", "history", "delete", "change", "autocomplete")
# Written by reading, not by changing: the session, the admin's own log, the ERP's message log
# and nonces (every API request is logged, refused ones included).
NOT_STATE = {
    "django_session",
    "django_admin_log",
    "erpbridge_messagelog",
    "erpbridge_erpnonce",
}

# Pages anyone may open: the language switcher and the favicon.
PUBLIC_URLS = {"/favicon.ico"}


def registry():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def allowed(role: str) -> set[str]:
    """What config/roles.py lets the role change: its non-view permissions (the auditor: none)."""
    if role == "auditor":
        return set()
    return {p for p in ROLE_PERMISSIONS[role] if ".view_" not in p}


def custom_permissions(model) -> set[str]:
    return {f"{model._meta.app_label}.{codename}" for codename, _ in model._meta.permissions}


def user_for(role: str):
    if role == "anonymous":
        return AnonymousUser()
    if role == "superuser":
        return User.objects.create_superuser(username="walk_root", password="x")
    user = User.objects.create_user(username=f"walk_{role}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def fingerprint() -> dict[str, tuple[int, int]]:
    """Row count and a hash of every row of every table: equal before and after means nothing
    was written."""
    tables = [t for t in connection.introspection.table_names() if t not in NOT_STATE]
    sql = " UNION ALL ".join(
        f"SELECT '{t}', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) FROM \"{t}\" x"
        for t in tables
    )
    with connection.cursor() as cur:
        cur.execute(sql)
        return {t: (n, h) for t, n, h in cur.fetchall()}


def changed(before, after) -> list[str]:
    return sorted(t for t in after if before.get(t) != after[t])


# --- the data the walk works on -----------------------------------------------------------------


@pytest.fixture
def world(make_shop, make_product, main_warehouse, client):
    """A little of everything, made through the services, so that change pages and actions
    have something to work on."""
    from django_q.models import OrmQ, Schedule, Task

    from channels import notices
    from channels.models import SkuComponent, SkuMapping
    from channels.types import NormalizedLine, NormalizedOrder
    from erpbridge import services as erp
    from inventory import services as stock
    from orders.intake import intake_orders
    from orders.models import Carrier, TrackingNumberRange

    shop = make_shop("TM01", "tmall")
    file_shop = make_shop("FN01", "feiniu")
    product = make_product(code="P1", barcode="690001")
    stock.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=50, actor=None)
    for s in (shop, file_shop):
        mapping = SkuMapping.objects.create(shop=s, platform_sku="SKU-1")
        SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal("1"))
    carrier = Carrier.objects.create(code="SF", name="顺丰速运")
    TrackingNumberRange.objects.create(
        carrier=carrier, prefix="SF", start=1000, end=1999, next_value=1000
    )
    now = timezone.now()
    intake_orders(
        shop=shop,
        orders=[
            NormalizedOrder(
                platform_order_no=f"W{n}",
                lines=[
                    NormalizedLine(
                        platform_sku="SKU-1", quantity=Decimal(1), unit_price=Decimal("10.00")
                    )
                ],
                paid_at=now - timedelta(minutes=n),
                receiver_name="王小丽",
                receiver_phone="13812345678",
                province="浙江省",
                city="杭州市",
                district="西湖区",
                address="文三路 90 号",
            )
            for n in range(3)
        ],
    )
    notices.enqueue(shop=file_shop, kind="shipment", dedupe_key="shipment:walk", payload={})
    client_, secret = erp.create_client(name="walk-erp")
    Task.objects.create(
        id="a" * 32, name="ok", func="math.floor", args=(1,), success=True, started=now, stopped=now
    )
    Task.objects.create(
        id="b" * 32,
        name="ko",
        func="math.floor",
        args=(1,),
        success=False,
        started=now,
        stopped=now,
    )
    Schedule.objects.get_or_create(name="walk", defaults={"func": "math.floor"})
    OrmQ.objects.create(key="walk", payload="x", lock=now)
    return shop


def first_pk(model):
    obj = model._default_manager.order_by("pk").first()
    return obj.pk if obj is not None else 0


def admin_urls() -> list[tuple[object, str, str]]:
    """(model, url name, url) of every admin page, the custom ones included, with the first
    object of the model (or of what the argument names) filled in."""
    from channels.models import Shop
    from orders.models import Order

    found = []
    for model, model_admin in registry():
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue
            kwargs = {}
            for name in getattr(pattern.pattern, "converters", {}):
                kwargs[name] = {
                    "order_id": lambda: first_pk(Order),
                    "shop_id": lambda: first_pk(Shop),
                }.get(name, lambda m=model: first_pk(m))()
            if not kwargs and "(?P<object_id>" in str(pattern.pattern):
                kwargs["object_id"] = first_pk(model)
            try:
                url = reverse(f"admin:{pattern.name}", kwargs=kwargs)
            except Exception:  # noqa: BLE001 - a pattern this walk cannot fill
                continue
            found.append((model, pattern.name, url))
    return found


def site_urls() -> list[str]:
    """Every URL outside the admin that takes no argument we cannot make up."""
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                if route.startswith("admin/"):
                    continue
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern):
                path = prefix + route
                path = path.replace("<str:batch_id>", "rb_walk").replace("^(?P<rest>.*)$", "x")
                if "<" in path or "(" in path:
                    continue
                found.append("/" + path)

    walk(get_resolver().url_patterns, "")
    return found


# --- 1. every action declares who may run it ----------------------------------------------------


def test_every_admin_action_declares_its_permission():
    request = RequestFactory().get("/admin/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    missing = []
    for model, model_admin in registry():
        # the declared actions, and what get_actions() adds on top of them for anyone
        offered = [*model_admin._get_base_actions(), *model_admin.get_actions(request).values()]
        for func, name, _description in offered:
            if not getattr(func, "allowed_permissions", None):
                missing.append(f"{model._meta.label}.{name}")
    assert missing == [], "actions without permissions=[…]: " + ", ".join(missing)


# --- 2. what each admin lets each role do agrees with config/roles.py ------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_admin_lets_a_role_change_only_what_config_roles_gives_it(role, world):
    user = user_for(role)
    request = RequestFactory().get("/admin/")
    request.user = user
    mine = allowed(role)
    wrong = []
    for model, model_admin in registry():
        label = f"{model._meta.app_label}.%s_{model._meta.model_name}"
        custom = custom_permissions(model)
        for op in ("add", "change", "delete"):
            if getattr(model_admin, f"has_{op}_permission")(request) and not (
                label % op in mine or custom & mine
            ):
                wrong.append(f"{model._meta.label}: {op}")
        for name, (func, _n, _d) in model_admin.get_actions(request).items():
            for perm in func.allowed_permissions:
                if perm == "view" and role == "auditor":
                    continue
                if perm in ("add", "change", "delete", "view"):
                    ok = label % perm in mine or label % "change" in mine or custom & mine
                else:
                    # a custom permission (has_<perm>_permission): the role must at least be
                    # given some change in that app by config/roles.py
                    app = model._meta.app_label
                    ok = (
                        f"{app}.{perm}" in mine
                        or custom & mine
                        or any(p.startswith(f"{app}.") for p in mine)
                    )
                if not ok:
                    wrong.append(f"{model._meta.label}: action {name} ({perm})")
    assert wrong == [], f"{role} may do what config/roles.py does not give it: {wrong}"


def test_the_auditor_is_offered_no_action_but_exports_and_views():
    user = user_for("auditor")
    request = RequestFactory().get("/admin/")
    request.user = user
    offered = {
        f"{model._meta.label}.{name}"
        for model, model_admin in registry()
        for name, (func, _n, _d) in model_admin.get_actions(request).items()
        if set(func.allowed_permissions) - {"view"}
    }
    assert offered == set()


# --- 3. over HTTP: the auditor and anonymous visitors change nothing, anywhere ------------------


@pytest.mark.parametrize("role", ["auditor", "anonymous"])
def test_posting_to_every_page_action_and_api_changes_nothing(role, world, client):
    user = user_for(role)
    if role != "anonymous":
        client.force_login(user)
    before = fingerprint()
    problems = []

    def check(what, response):
        nonlocal before
        after = fingerprint()
        if after != before:
            problems.append(f"{what} → {response.status_code} changed {changed(before, after)}")
            before = after
        if response.status_code >= 500:
            problems.append(f"{what} → {response.status_code}")

    for model, name, url in admin_urls():
        check(f"POST {url}", client.post(url, {"post": "yes", "_save": "1"}))
        if name.endswith("_changelist"):
            model_admin = admin.site._registry[model]
            pks = list(model._default_manager.values_list("pk", flat=True)[:20])
            for _func, action, _d in model_admin._get_base_actions():
                check(
                    f"action {model._meta.label}.{action}",
                    client.post(
                        url, {"action": action, "_selected_action": pks, "post": "yes", "index": 0}
                    ),
                )
    for url in site_urls():
        check(f"POST {url}", client.post(url, {}, content_type="application/json"))
    assert problems == [], problems


@pytest.mark.parametrize("role", ["anonymous", *ROLES, "superuser"])
def test_every_page_answers_each_role_without_error(role, world, client):
    user = user_for(role)
    if role != "anonymous":
        client.force_login(user)
    errors, opened = [], []
    for _model, name, url in admin_urls():
        if name.endswith(("_delete", "_export", "receipt_pdf")) and role == "superuser":
            continue  # GET of these is a confirmation page or a download: walked above
        response = client.get(url)
        if response.status_code >= 500:
            errors.append(f"GET {url} → {response.status_code}")
        if role == "anonymous" and response.status_code == 200:
            opened.append(url)
    for url in site_urls():
        response = client.get(url)
        if response.status_code >= 500:
            errors.append(f"GET {url} → {response.status_code}")
        if (
            role == "anonymous"
            and response.status_code == 200
            and url not in PUBLIC_URLS
            and "setlang" not in url
        ):
            opened.append(url)
        if url.startswith("/api/erp/v1/"):
            # A session is not an ERP client: every role, the superuser too, is refused.
            assert response.status_code == 401, url
    assert errors == []
    assert opened == [], f"anonymous visitors may open {opened}"
