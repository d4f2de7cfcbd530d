"""`make run`: the demo shops that point at the sandbox get the sandbox's credentials, and the
sandbox sells their SKUs, so a newcomer sees orders arrive and map onto products.

One shop per protocol is adopted (the sandbox plays one seller per platform): the first
taobao/tmall shop, the first JD shop and the first Weimob shop pointing at this sandbox whose
credentials are not complete yet. Shops with complete credentials are left as they are.
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
        if shop.api_base_url.rstrip("/") not in urls or protocol in taken:
            continue
        taken.add(protocol)
        creds = dict(shop.credentials or {})
        if not all(creds.get(k) == DEFAULT_APPS[protocol][k] for k in REQUIRED[protocol]):
            creds.update(DEFAULT_APPS[protocol])
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
            state.catalogues[protocol] = catalogue
        adopted.append(f"{shop.code} ({protocol}, {len(catalogue)} SKUs)")
    return adopted
