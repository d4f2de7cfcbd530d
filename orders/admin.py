from . import admin_fulfilment  # noqa: F401, E402
