"""The platform sandbox over real HTTP, and shops pointing at it."""

from datetime import UTC, datetime, timedelta

import pytest
import requests

from channels.sandbox.server import SandboxServer
from channels.sandbox.state import DEFAULT_APPS


class Sandbox:
    """Drives the sandbox through its HTTP control API, as a test or a person would."""

    def __init__(self, server: SandboxServer):
        self.server = server
        self.url = server.url
        self.http = requests.Session()

    def control(self, action, **data):
        resp = self.http.post(f"{self.url}/_sandbox/{action}", json=data, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def generate(self, platform="top", count=10, start=None, end=None, **kw):
        end = end or datetime.now(UTC) - timedelta(minutes=2)
        start = start or end - timedelta(hours=1)
        kw.setdefault("refund_share", 0)
        kw.setdefault("cancel_share", 0)
        return self.control(
            "generate",
            platform=platform,
            count=count,
            start=start.isoformat(),
            end=end.isoformat(),
            **kw,
        )["tids"]

    def put_order(self, lines, *, platform="top", at=None, **kw):
        """One order exactly as given: lines [(outer SKU, num[, price])]; returns its tid."""
        at = at or datetime.now(UTC) - timedelta(minutes=5)
        return self.control("put_order", platform=platform, lines=lines, at=at.isoformat(), **kw)[
            "tid"
        ]

    def fault(self, kind, method="", platform="", times=1, delay=2.0):
        self.control("fault", kind=kind, method=method, platform=platform, times=times, delay=delay)

    def state(self):
        return self.control("state")

    def order(self, platform, tid):
        return self.control("order", platform=platform, tid=tid)["order"]


@pytest.fixture(scope="session")
def sandbox_server():
    server = SandboxServer()
    server.start_in_thread()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox(sandbox_server):
    sb = Sandbox(sandbox_server)
    sb.control("reset")
    return sb


def credentials(platform, **extra):
    app = dict(DEFAULT_APPS[platform])
    app.setdefault("timeout", 1.0)
    app.update(extra)
    return app


@pytest.fixture
def top_shop(make_shop, sandbox):
    return make_shop(
        code="TB01",
        platform="taobao",
        api_base_url=sandbox.url,
        credentials=credentials("top"),
    )


@pytest.fixture
def jd_shop(make_shop, sandbox):
    return make_shop(
        code="JD01", platform="jd", api_base_url=sandbox.url, credentials=credentials("jd")
    )


@pytest.fixture
def weimob_shop(make_shop, sandbox):
    return make_shop(
        code="WM01", platform="weimob", api_base_url=sandbox.url, credentials=credentials("weimob")
    )


@pytest.fixture
def top_flow(top_shop):
    """The real intake and services (tests/factory.py) for the TOP shop: TEA-001 and CUP-001
    map to the products TEA and CUP, 10 of each on hand."""
    from tests.factory import Flow

    flow = Flow(shop=top_shop)
    tea, cup = flow.products("TEA", "CUP")
    flow.sku("TEA-001", tea)
    flow.sku("CUP-001", cup)
    flow.stock(tea, 10)
    flow.stock(cup, 10)
    return flow
