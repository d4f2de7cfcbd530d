"""`make run`: the demo shops that point at the sandbox get the sandbox's credentials, and the
sandbox sells their SKUs, so a newcomer sees orders arrive and map onto products.

Every Taobao/Tmall shop pointing here becomes a TOP seller of its own (its own session); the
first JD and the first Weimob shop pointing here are adopted (one seller each). Credentials are
only written when they are not the sandbox's already.
"""

from __future__ import annotations

from decimal import Decimal

from .state import DEFAULT_APPS, SandboxState

PROTOCOL = {"taobao": "top", "tmall": "top", "jd": "jd", "weimob": "weimob"}
REQUIRED = {
    "top": ("app_key", "secret", "session"),
    "jd": ("app_key", "secret", "access_token"),
    "weimob": ("client_id", "client_secret"),
}


def adopt_demo_shops(state: SandboxState, *, port: int) -> list[str]:
    from channels.models import Shop

    urls = {f"http://127.0.0.1:{port}", f"http://localhost:{port}"}
    adopted, taken = [], set()
    shops = (
        Shop.objects.filter(platform__code__in=PROTOCOL, enabled=True)
        .select_related("platform")
        .order_by("code")
    )
    for shop in shops:
        protocol = PROTOCOL[shop.platform.code]
        if shop.api_base_url.rstrip("/") not in urls:
            continue
        wanted = dict(DEFAULT_APPS[protocol])
        seller = protocol
        if protocol in taken:
            if protocol != "top":
                continue  # one JD and one Weimob seller
            seller = f"top:{shop.code}"
            wanted["session"] = f"sandbox-session-{shop.code.lower()}"
            state.add_top_seller(session=wanted["session"], seller=seller)
        taken.add(protocol)
        creds = dict(shop.credentials or {})
        if not all(creds.get(k) == wanted[k] for k in REQUIRED[protocol]):
            creds.update(wanted)
            Shop.objects.filter(pk=shop.pk).update(credentials=creds)
        catalogue = {}
        for mapping in shop.sku_mappings.prefetch_related("components__product"):
            parts = list(mapping.components.all())
            title = " + ".join(c.product.name for c in parts)[:60] or mapping.platform_sku
            price = sum(
                ((c.product.list_price or Decimal("59.00")) * c.quantity for c in parts),
                start=Decimal("0"),
            )
            catalogue[mapping.platform_sku] = (title, price.quantize(Decimal("0.01")))
        if catalogue:
            state.catalogues[seller] = catalogue
        adopted.append(f"{shop.code} ({seller}, {len(catalogue)} SKUs)")
    return adopted
