"""Fixtures of the home page tests: people in each role, orders through the intake."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, User

# 2026-11-30 10:30 Asia/Shanghai: "today" of the charts is frozen, never the wall clock.
NOW = datetime(2026, 11, 30, 2, 30, tzinfo=UTC)

ROLES = ["warehouse", "reviewer", "after_sales", "after_sales_reviewer", "auditor"]


@pytest.fixture
def person(db):
    """A staff user in ``role`` (or a superuser for "superuser")."""

    def make(role):
        if role == "superuser":
            return User.objects.create_superuser("boss", password="pw-boss-123")
        user = User.objects.create_user(f"u-{role}", password="pw-secret-1", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make
