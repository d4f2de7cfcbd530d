"""The message log: what strangers leave, how long rows stay, and snapshots half-applied never."""

import datetime as dt
import logging

import pytest

from core.clock import frozen
from erpbridge import services
from erpbridge.models import MessageLog, StockMessage

from .conftest import iso, on_hand

pytestmark = pytest.mark.django_db


def message(message_id, items, as_of):
    return {
        "message_id": message_id,
        "as_of": iso(as_of),
        "items": [{"product_code": c, "quantity": q} for c, q in items],
    }


def test_an_unauthenticated_request_leaves_metadata_only(api):
    big = b'{"message_id": "X", "junk": "' + b"A" * 100_000 + b'"}'
    response = api.post("stock/incremental", big, secret="not-the-secret")

    assert response.status_code == 401
    log = MessageLog.objects.get()
    assert log.request_body == ""
    assert (log.method, log.path, log.status_code, log.client) == (
        "POST",
        "/api/erp/v1/stock/incremental",
        401,
        None,
    )


def test_accepting_a_snapshot_applies_it_and_marks_the_log_in_one_transaction(
    api, make_product, stock_in, admin_user, monkeypatch
):
    from django.utils import timezone

    products = [make_product(f"P{i}") for i in range(3)]
    for p in products:
        stock_in(p, 10)
    api.post("stock/full", message("F1", [("P0", "4")], timezone.now()))
    log = MessageLog.objects.get(message_id="F1")
    assert log.result == MessageLog.Result.REFUSED

    def broken():
        raise RuntimeError("the database went away while marking the log")

    monkeypatch.setattr(services.clock, "now", broken)
    with pytest.raises(RuntimeError):
        services.accept_refused_snapshot(log=log, actor=admin_user)

    # Neither half: the stock is untouched and the entry still waits to be accepted.
    assert [on_hand(p) for p in products] == [10, 10, 10]
    assert not StockMessage.objects.filter(message_id="F1").exists()
    log.refresh_from_db()
    assert log.result == MessageLog.Result.REFUSED


def test_retention_drops_snapshot_bodies_first_then_old_rows(api, make_product, settings):
    settings.ERP_LOG_RETENTION_DAYS = 30
    settings.ERP_LOG_SNAPSHOT_BODY_DAYS = 7
    make_product("A")
    start = dt.datetime(2026, 10, 1, 1, 0, tzinfo=dt.UTC)
    for day, mid in ((0, "F-old"), (20, "F-mid"), (29, "F-new")):
        at = start + dt.timedelta(days=day)
        MessageLog.objects.filter(message_id=mid).delete()
        api.post("stock/full", message(mid, [("A", "1")], dt.datetime.now(dt.UTC)))
        MessageLog.objects.filter(message_id=mid).update(received_at=at)
    api.post("stock/incremental", message("I-mid", [("A", "2")], dt.datetime.now(dt.UTC)))
    MessageLog.objects.filter(message_id="I-mid").update(received_at=start + dt.timedelta(days=20))

    with frozen(start + dt.timedelta(days=31, hours=1)):
        counts = services.prune_message_log()

    logs = {m.message_id: m for m in MessageLog.objects.all()}
    assert set(logs) == {"F-mid", "F-new", "I-mid"}  # F-old was 31 days old
    assert logs["F-mid"].request_body == ""  # 11 days: the snapshot's body went first
    assert logs["F-new"].request_body != ""  # 2 days: kept
    assert logs["I-mid"].request_body != ""  # not a full snapshot: kept as long as the row
    assert counts == {"bodies": 2, "rows": 1}  # F-old lost its body, then its row
    # The applied message stays: the ERP sending F-old again is still a duplicate.
    assert StockMessage.objects.filter(message_id="F-old").exists()
    again = api.post("stock/full", message("F-old", [("A", "1")], dt.datetime.now(dt.UTC)))
    assert again.json()["status"] == "duplicate"


def test_the_retention_runs_as_a_daily_task(db):
    from django_q.models import Schedule

    from erpbridge import tasks

    tasks.ensure_schedules()
    schedule = Schedule.objects.get(func="erpbridge.tasks.prune_message_log")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1440)
    assert "rows deleted" in tasks.prune_message_log()


@pytest.mark.django_db(transaction=True)
def test_a_broker_failing_after_the_commit_does_not_turn_an_applied_snapshot_into_a_500(
    reseeded_erp, make_product, stock_in, monkeypatch, caplog
):
    import django_q.tasks
    from django.utils import timezone

    api = reseeded_erp
    a = make_product("A")
    stock_in(a, 5)

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(django_q.tasks, "async_task", broker_down)
    with caplog.at_level(logging.ERROR):
        response = api.post("stock/full", message("F1", [("A", "3")], timezone.now()))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "applied"
    assert on_hand(a) == 3
    assert MessageLog.objects.get(message_id="F1").result == MessageLog.Result.APPLIED
    assert "could not queue the full stock push" in caplog.text


@pytest.fixture
def reseeded_erp(transactional_db, client):
    from .conftest import ErpApi

    erp, secret = services.create_client(name="yonyou-tx")
    return ErpApi(client, erp.key_id, secret)
