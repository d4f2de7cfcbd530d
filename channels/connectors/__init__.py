"""Platform connectors: one module per protocol (see base.py for the interface)."""

from __future__ import annotations

FILE_PLATFORMS = {"feiniu", "yhd", "mogujie", "other"}


def connector_class(platform_code: str):
    from .jd import JdConnector
    from .top import TopConnector
    from .weimob import WeimobConnector

    for cls in (TopConnector, JdConnector, WeimobConnector):
        if platform_code in cls.platform_codes:
            return cls
    return None


def get_connector(shop, **kwargs):
    """The API connector of this shop, or None for a file platform."""
    cls = connector_class(shop.platform.code)
    return cls(shop, **kwargs) if cls else None
