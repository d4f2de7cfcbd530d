"""The pages where an administrator keeps people and roles speak Chinese, and putting a new user
in a role is all it takes for them to sign in."""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client):
    client.force_login(User.objects.create_superuser("boss", password="pw-boss-123"))
    return client


def form_data(response) -> dict:
    """What the browser would send back: the change form's own values."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        widget = field.widget
        if hasattr(widget, "decompress"):  # split date and time
            for i, part in enumerate(widget.decompress(value)):
                data[f"{name}_{i}"] = part
        elif isinstance(value, list | tuple | set):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    return data


def test_a_new_user_put_in_the_warehouse_role_can_sign_in(boss):
    added = boss.post(
        reverse("admin:auth_user_add"),
        {
            "username": "xiaowang",
            "usable_password": "true",
            "password1": "Xw-pack-2026!",
            "password2": "Xw-pack-2026!",
        },
    )
    user = User.objects.get(username="xiaowang")
    assert added.status_code == 302 and not user.is_staff
    change_url = reverse("admin:auth_user_change", args=[user.pk])
    data = form_data(boss.get(change_url))
    assert "is_staff" not in data  # the administrator does not tick 职员状态
    data["groups"] = [Group.objects.get(name="warehouse").pk]

    saved = boss.post(change_url, data)

    assert saved.status_code == 302, saved.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.is_staff
    packer = Client()
    assert packer.login(username="xiaowang", password="Xw-pack-2026!")
    home = packer.get("/admin/")
    assert home.status_code == 200 and "工作台" in home.content.decode()


def visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_role_page_names_the_role_and_its_permissions_in_chinese(boss):
    group = Group.objects.get(name="warehouse")
    text = visible(boss.get(reverse("admin:auth_group_change", args=[group.pk])).content.decode())

    assert "修改 组" in text or "修改组" in text
    assert "仓库" in text and "warehouse" not in text  # the role, by its Chinese name
    assert "订单 | 波次 | 可查看波次" in text  # a model's permission, from its translated name
    assert "可打印波次和单据" in text  # a permission of the project's own
    assert "商品与库存 | 调拨变更历史 | 可查看调拨变更历史" in text  # a history table
    assert "Can " not in text and "historical" not in text


def test_the_user_page_names_roles_and_permissions_in_chinese(boss):
    user = User.objects.create_user("lisi", password="pw-lisi-123")
    user.user_permissions.add(Permission.objects.get(codename="view_wave"))
    user.groups.add(Group.objects.get(name="reviewer"))

    text = visible(boss.get(reverse("admin:auth_user_change", args=[user.pk])).content.decode())

    for role in ("仓库", "审单", "售后", "售后审核", "审计"):
        assert role in text
    assert "可查看波次" in text
    assert "Can " not in text and "after_sales" not in text
