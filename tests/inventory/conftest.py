"""Fixtures of the store locations (h13's stores app creates them the same way)."""

import pytest

from inventory.transfers import ensure_store_locations


@pytest.fixture
def store_locations(db):
    """The demo store's two locations: MD01 (its sellable stock) and MD01:sample."""
    return ensure_store_locations(code="MD01", name="体验店 MD01")
