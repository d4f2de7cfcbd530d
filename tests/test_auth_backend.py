"""The permission backend (core/auth.py): one query, ModelBackend's answers, nothing kept
across requests."""

import json

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.auth import PermissionBackend

pytestmark = pytest.mark.django_db


def _fresh(user):
    return User.objects.get(pk=user.pk)  # no permission cache on it


def test_it_answers_what_model_backend_answers_for_every_kind_of_user():
    warehouse = Group.objects.get(name="warehouse")
    own = Permission.objects.get(codename="view_shop")
    both = User.objects.create_user("both", password="x")
    both.groups.add(warehouse)
    both.user_permissions.add(own)
    only_group = User.objects.create_user("grp", password="x")
    only_group.groups.add(warehouse)
    only_own = User.objects.create_user("own", password="x")
    only_own.user_permissions.add(own)
    nobody = User.objects.create_user("none", password="x")
    boss = User.objects.create_superuser("boss", password="x")
    gone = User.objects.create_user("gone", password="x", is_active=False)
    gone.groups.add(warehouse)

    for user in (both, only_group, only_own, nobody, boss, gone):
        ours = PermissionBackend().get_all_permissions(_fresh(user))
        django = ModelBackend().get_all_permissions(_fresh(user))
        assert ours == django, user.username
    assert "orders.verify_order" in PermissionBackend().get_all_permissions(_fresh(both))
    assert "channels.view_shop" in PermissionBackend().get_all_permissions(_fresh(both))
    assert PermissionBackend().get_all_permissions(_fresh(gone)) == set()


def test_a_permission_check_costs_one_query_per_request():
    user = User.objects.create_user("picker", password="x")
    user.groups.add(Group.objects.get(name="warehouse"))
    user = _fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("orders.verify_order")
        assert user.has_perm("orders.ship_order")
        assert not user.has_perm("orders.change_order_refund")
    assert len(queries) == 1


def test_a_packer_taken_out_of_the_warehouse_role_is_refused_at_the_next_scan():
    user = User.objects.create_user("picker", password="x")
    user.groups.add(Group.objects.get(name="warehouse"))
    client = Client()
    client.force_login(user)

    def scan():
        return client.post(
            reverse("warehouse:open_order"),
            json.dumps({"code": "NO-SUCH-WAYBILL"}),
            content_type="application/json",
        )

    assert scan().json()["error"]["code"] == "unknown_order"  # allowed: the order is unknown
    user.groups.clear()
    answer = scan()
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
