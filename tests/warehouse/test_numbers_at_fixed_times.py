"""Document numbers carry the Asia/Shanghai date of core.clock, whatever the hour."""

import pytest

from orders.services import waves

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_time")]


def test_a_wave_number_carries_the_shanghai_date(make_order, stocked_product, worker, fixed_time):
    order = make_order([(stocked_product(), 1, "10.00")])

    wave = waves.create_wave(orders=[order], actor=worker)

    assert f"{fixed_time:%Y%m%d}" in wave.number
