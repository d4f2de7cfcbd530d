"""Writes of the promotions app, one function per business action (see each module's rules)."""

from .catalogue import (
    approve_promotion,
    create_promotion,
    new_version,
    retire_promotion,
    update_promotion,
)
from .members import enrol_member, erase_member, record_member_spend, send_enrolment_code
from .redpackets import (
    Clawback,
    OrderFacts,
    earn_red_packet,
    issue_due_red_packets,
    issue_red_packet,
    lock_red_packet,
    preview_clawback,
    record_paid_order,
    restore_cashback,
    return_spent_packet,
    spend_red_packet,
    take_back_cashback,
    void_cashback,
)
from .usage import Released, release_order, reserve_usage

__all__ = [
    "Clawback",
    "OrderFacts",
    "approve_promotion",
    "create_promotion",
    "earn_red_packet",
    "enrol_member",
    "erase_member",
    "issue_due_red_packets",
    "issue_red_packet",
    "lock_red_packet",
    "new_version",
    "preview_clawback",
    "record_member_spend",
    "record_paid_order",
    "Released",
    "release_order",
    "reserve_usage",
    "restore_cashback",
    "return_spent_packet",
    "retire_promotion",
    "send_enrolment_code",
    "spend_red_packet",
    "take_back_cashback",
    "update_promotion",
    "void_cashback",
]
