"""What every platform handler of the sandbox shares: the reply, the faults, paging."""

from __future__ import annotations

import json
import time

from .state import SandboxState


class Reply:
    def __init__(self, body, status: int = 200, content_type: str = "application/json"):
        if not isinstance(body, bytes | str):
            body = json.dumps(body, ensure_ascii=False, default=str)
        self.body = body.encode() if isinstance(body, str) else body
        self.status = status
        self.content_type = content_type


def fault_reply(state: SandboxState, platform: str, method: str, rate_limited_body) -> tuple:
    """Apply a pending fault: returns (reply or None, fault)."""
    fault = state.take_fault(platform, method)
    if fault is None:
        return None, None
    if fault.kind == "timeout":
        time.sleep(fault.delay)
        return Reply({"error": "gateway timeout"}, status=504), fault
    if fault.kind == "http_500":
        return Reply("<html><body>502 Bad Gateway</body></html>", 502, "text/html"), fault
    if fault.kind == "rate_limit":
        return Reply(rate_limited_body), fault
    if fault.kind == "malformed":
        return Reply(b'{"response": {"trades": [{"tid": 12', 200), fault
    return None, fault  # timeout_after, duplicate_page, out_of_order: applied by the handler


def page_slice(items: list, page: int, size: int, fault) -> list:
    """One page of items; a duplicate/out-of-order fault serves a neighbouring page instead."""
    pages = max(1, -(-len(items) // size))
    if fault is not None and fault.kind in {"duplicate_page", "out_of_order"}:
        if fault.kind == "duplicate_page":
            page = page - 1 if page > 1 else min(2, pages)
        else:
            page = page + 1 if page < pages else max(1, page - 1)
        chunk = items[(page - 1) * size : page * size]
        return list(reversed(chunk)) if fault.kind == "out_of_order" else chunk
    return items[(page - 1) * size : page * size]
