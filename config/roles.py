"""The roles (groups) and what each may see and do.

Groups are created by a migration (inventory 0003); their permissions are (re)set from this
table after every ``migrate`` so the code is the single statement of who may do what.
Each entry: group name → list of "app_label.codename" permissions. Apps extend ROLE_PERMISSIONS
for their own models as they arrive.

What each role does (master data and stock; the orders/returns issues add their own work):
- warehouse (仓库): sees products, stock levels, the stock ledger and the SKU relation table;
  changes no master data.
- reviewer (审单): sees the master data; keeps the SKU relation table (add/change, import) so it
  can fix "SKU not mapped" holds; cannot change products, shops or stock.
- after_sales / after_sales_reviewer (售后 / 售后审核): see the master data they need.
- store_guide / store_manager (导购 / 店长): their own store's counter page (stores/); the
  manager also registers and revokes the store's kiosk devices.
- auditor (审计): sees everything (every view permission, history included), changes nothing.
Stock adjustments (``inventory.add_stockmove``) and product imports are for administrators.
"""

from django.utils.translation import gettext_lazy as _

ROLE_LABELS = {
    "warehouse": _("warehouse"),
    "reviewer": _("reviewer"),
    "after_sales": _("after-sales"),
    "after_sales_reviewer": _("after-sales reviewer"),
    "auditor": _("auditor"),
    "store_guide": _("store guide"),
    "store_manager": _("store manager"),
}

MASTER_DATA_VIEW = [
    "channels.view_platform",
    "channels.view_shop",
    "channels.view_skumapping",
    "channels.view_skucomponent",
    "inventory.view_product",
    "inventory.view_warehouse",
    "inventory.view_stocklevel",
    "channels.view_sellablequantity",
]

# Members, promotions and red packets (promotions/): guides enrol members and see them with a
# masked phone; store managers see whole phones, make promotions and approve other managers'
# promotions (never their own: promotions/services/catalogue.py). Wallets are read-only.
PROMOTIONS_GUIDE = [
    "promotions.view_member",
    "promotions.add_member",
    "promotions.view_memberlevel",
    "promotions.view_memberprice",
    "promotions.view_promotion",
    "promotions.view_redpacket",
    "promotions.view_walletentry",
]
PROMOTIONS_MANAGER = [
    *PROMOTIONS_GUIDE,
    "promotions.change_member",
    "promotions.see_member_phone",
    "promotions.erase_member",
    "promotions.add_memberprice",
    "promotions.change_memberprice",
    "promotions.delete_memberprice",
    "promotions.add_promotion",
    "promotions.change_promotion",
    "promotions.approve_promotion",
    "promotions.view_promotionusage",
]

RETURNS_VIEW = [
    "returns.view_returnorder",
    "returns.view_returnline",
    "returns.view_returnreceipt",
    "returns.view_returnevent",
]

# Store staff work on the store's own pages (/store/counter/), which show their own store only;
# in the admin they see their store (and, managers, its kiosk devices), never other orders.
STORE_GUIDE = [
    "inventory.view_product",
    "stores.view_store",
    "orders.add_payment",  # the counter page
    "returns.receive_returnorder",  # receive a store return (into the store or on to main)
]

# Transfers (调拨) between the main warehouse and a store, and the store's replenishment rules
# (inventory/transfers.py, inventory/replenishment.py). A store's staff see their own store's
# only (inventory/scope.py; the stores app registers the rule).
TRANSFER_PERMISSIONS = [
    "inventory.view_product",
    "inventory.view_warehouse",
    "inventory.view_stocklevel",
    "inventory.view_stockmove",
    "inventory.view_transfer",
    "inventory.add_transfer",
    "inventory.change_transfer",
    "inventory.ship_transfer",
    "inventory.receive_transfer",
    "inventory.view_transferline",
    "inventory.add_transferline",
    "inventory.change_transferline",
    "inventory.delete_transferline",
    "inventory.view_replenishmentrule",
    "inventory.add_replenishmentrule",
    "inventory.change_replenishmentrule",
    "inventory.delete_replenishmentrule",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "warehouse": [
        *MASTER_DATA_VIEW,
        "inventory.view_stockmove",
        "orders.view_order",
        "orders.view_carrier",
        # Waves, printing, scan verification and shipping (orders/services/fulfilment.py).
        "orders.view_orderevent",
        "orders.view_orderhold",
        "orders.print_wave",
        "orders.verify_order",
        "orders.ship_order",
        "orders.view_wave",
        "orders.add_wave",
        "orders.view_printrecord",
        "orders.view_trackingnumberrange",
        "orders.add_trackingnumberrange",
        "orders.view_trackingnumber",
        "orders.view_handoverbatch",
        "orders.add_handoverbatch",
        "orders.change_handoverbatch",
        # Whether shipments reached the platforms (channels sync status, outbox).
        "channels.view_shopsyncstatus",
        "channels.view_outboxmessage",
    ],
    "reviewer": [
        *MASTER_DATA_VIEW,
        "orders.view_order",
        "orders.change_order",
        "orders.view_reviewqueueorder",
        "orders.change_reviewqueueorder",
        "orders.view_orderhold",
        "orders.view_orderevent",
        "orders.view_carrier",
        # Reviewers keep the SKU relation table (they fix "SKU not mapped" holds).
        "channels.add_skumapping",
        "channels.change_skumapping",
        "channels.add_skucomponent",
        "channels.change_skucomponent",
        "channels.delete_skucomponent",
        # Syncs: "sync now" per shop, and sending parked platform calls again.
        "channels.view_shopsyncstatus",
        "channels.change_shopsyncstatus",
        "channels.view_outboxmessage",
        "channels.change_outboxmessage",
        # …and see who changed a component before them.
        "channels.view_historicalskucomponent",
    ],
    # After-sales staff create return orders and receive their goods; reviewers approve or
    # reject them (nobody reviews a return order they created: returns/services.py).
    "after_sales": [
        *MASTER_DATA_VIEW,
        "orders.view_order",
        "orders.view_orderevent",
        *RETURNS_VIEW,
        "returns.add_returnorder",
        "returns.receive_returnorder",
        "returns.close_returnorder",
    ],
    "after_sales_reviewer": [
        *MASTER_DATA_VIEW,
        "orders.view_order",
        "orders.view_orderevent",
        *RETURNS_VIEW,
        "returns.review_returnorder",
    ],
    # Experience stores (stores/): a store's staff act on their own store only (StoreMember).
    # The guide (导购) takes orders and payments at the counter, hands over, verifies pick-up
    # codes and creates store returns; the manager also registers and revokes kiosk devices.
    "store_guide": STORE_GUIDE,
    "store_manager": [
        *STORE_GUIDE,
        "stores.view_kioskdevice",
        "stores.manage_kioskdevice",
        "stores.view_storemember",
        *TRANSFER_PERMISSIONS,
    ],
    # The auditor sees everything and changes nothing: every view_* permission, added below.
    "auditor": [],
}

# The experience store roles (stores/ defines them) also work with members and promotions.
for _role, _perms in (("store_guide", PROMOTIONS_GUIDE), ("store_manager", PROMOTIONS_MANAGER)):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS.get(_role, []), *_perms]


def sync_role_permissions(**kwargs):
    """post_migrate: give each group exactly the permissions of its role."""
    from django.contrib.auth.models import Group, Permission

    for name, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        if name == "auditor":
            wanted = Permission.objects.filter(codename__startswith="view_")
        else:
            wanted = Permission.objects.none()
            for perm in perms:
                app_label, codename = perm.split(".", 1)
                wanted = wanted | Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                )
        group.permissions.set(wanted)


def staff_for_role_members(sender, instance, action, pk_set, model, **kwargs):
    """m2m_changed of User.groups: whoever is put in a role's group may sign in to the back
    office (is_staff); an administrator who creates a warehouse user needs no second step."""
    from django.contrib.auth.models import Group, User

    if action != "post_add" or not pk_set:
        return
    if isinstance(instance, User):
        users = [instance]
        names = Group.objects.filter(pk__in=pk_set).values_list("name", flat=True)
    else:  # group.user_set.add(...)
        users = list(User.objects.filter(pk__in=pk_set))
        names = [instance.name]
    if not set(names) & set(ROLE_PERMISSIONS):
        return
    for user in users:
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
