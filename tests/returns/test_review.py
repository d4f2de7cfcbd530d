from decimal import Decimal as D

import pytest

from returns.models import ReturnEvent, ReturnOrder
from returns.services import ReturnError, approve_return, create_return, reject_return

pytestmark = pytest.mark.django_db

S = ReturnOrder.Status


@pytest.fixture
def submitted(simple_order, after_sales):
    return create_return(
        order=simple_order,
        lines=[(simple_order.line_a, D("1"), D("10"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="质量问题",
        refund_amount=D("10"),
        actor=after_sales,
    )


def test_a_reviewer_approves_a_return_with_goods(submitted, reviewer):
    approve_return(return_order=submitted, actor=reviewer)

    submitted.refresh_from_db()
    assert submitted.status == S.APPROVED
    assert submitted.reviewed_by == reviewer and submitted.reviewed_at is not None
    assert submitted.closed_at is None
    event = submitted.events.get(kind=ReturnEvent.Kind.APPROVED)
    assert (event.actor, event.before, event.after) == (
        reviewer,
        {"status": "submitted"},
        {"status": "approved"},
    )


def test_a_refund_without_goods_closes_on_approval(simple_order, after_sales, reviewer):
    ro = create_return(
        order=simple_order,
        lines=[],
        kind=ReturnOrder.Kind.REFUND_ONLY,
        reason="少发赠品",
        refund_amount=D("5"),
        actor=after_sales,
    )
    approve_return(return_order=ro, actor=reviewer)

    ro.refresh_from_db()
    assert ro.status == S.CLOSED and ro.closed_at is not None and ro.received_at is None
    assert list(ro.events.values_list("kind", flat=True)) == ["created", "approved", "closed"]


def test_a_reviewer_rejects_with_a_reason(submitted, reviewer):
    reject_return(return_order=submitted, actor=reviewer, reason="超过退货期限")

    submitted.refresh_from_db()
    assert submitted.status == S.REJECTED and submitted.reject_reason == "超过退货期限"
    assert submitted.events.get(kind="rejected").message == "超过退货期限"


def test_a_rejection_without_a_reason_is_refused(submitted, reviewer):
    with pytest.raises(ReturnError, match="reason for the rejection"):
        reject_return(return_order=submitted, actor=reviewer, reason="  ")
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_nobody_approves_a_return_they_created(simple_order, both_roles):
    ro = create_return(
        order=simple_order,
        lines=[(simple_order.line_a, D("1"), D("10"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="质量问题",
        refund_amount=D("10"),
        actor=both_roles,
    )
    with pytest.raises(ReturnError, match="another reviewer"):
        approve_return(return_order=ro, actor=both_roles)
    with pytest.raises(ReturnError, match="another reviewer"):
        reject_return(return_order=ro, actor=both_roles, reason="自己驳回")
    ro.refresh_from_db()
    assert ro.status == S.SUBMITTED and ro.events.count() == 1


def test_not_even_a_superuser_approves_their_own_return(simple_order):
    from django.contrib.auth.models import User

    boss = User.objects.create_superuser("boss", password="pw-secret-1")
    ro = create_return(
        order=simple_order,
        lines=[(simple_order.line_a, D("1"), D("10"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="质量问题",
        refund_amount=D("10"),
        actor=boss,
    )
    with pytest.raises(ReturnError, match="another reviewer"):
        approve_return(return_order=ro, actor=boss)


def test_someone_with_both_roles_approves_another_persons_return(submitted, both_roles):
    approve_return(return_order=submitted, actor=both_roles)
    submitted.refresh_from_db()
    assert submitted.status == S.APPROVED


@pytest.mark.parametrize("who", ["after_sales", "auditor"])
def test_only_reviewers_review(submitted, request, who):
    user = request.getfixturevalue(who)
    with pytest.raises(ReturnError, match="not allowed to approve"):
        approve_return(return_order=submitted, actor=user)
    with pytest.raises(ReturnError, match="not allowed to reject"):
        reject_return(return_order=submitted, actor=user, reason="不行")
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_a_system_actor_cannot_review(submitted):
    with pytest.raises(ReturnError, match="not allowed"):
        approve_return(return_order=submitted, actor="platform")


def test_a_return_is_reviewed_only_once(submitted, reviewer):
    approve_return(return_order=submitted, actor=reviewer)
    with pytest.raises(ReturnError, match="you cannot approve it"):
        approve_return(return_order=submitted, actor=reviewer)
    with pytest.raises(ReturnError, match="you cannot reject it"):
        reject_return(return_order=submitted, actor=reviewer, reason="改主意")
    assert submitted.events.filter(kind="approved").count() == 1


def test_a_rejected_return_cannot_be_approved(submitted, reviewer):
    reject_return(return_order=submitted, actor=reviewer, reason="不符合")
    with pytest.raises(ReturnError, match="you cannot approve it"):
        approve_return(return_order=submitted, actor=reviewer)
