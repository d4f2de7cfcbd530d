"""Screens for members, levels, promotions (with approval) and wallets (read-only).

Thin: changes go through promotions.services, which check the permissions again and refuse
with a message (shown here). A member's phone is masked (138****5678) except for users with
``promotions.see_member_phone`` (the store manager role).
"""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .errors import PromotionError
from .models import (
    Member,
    MemberLevel,
    MemberPrice,
    Promotion,
    PromotionUsage,
    RedPacket,
    WalletEntry,
)
from .phones import PhoneError, normalize_phone
from .services.catalogue import EDITABLE, _check_shape, _normalise, could_go_negative


class ReadOnlyAdmin(admin.ModelAdmin):
    """A ledger or a record: looked at, never changed here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MemberPriceInline(admin.TabularInline):
    model = MemberPrice
    extra = 1
    fields = ["product_code", "style_code", "price"]


@admin.register(MemberLevel)
class MemberLevelAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "rank", "min_spend", "discount_percent"]
    inlines = [MemberPriceInline]


def _phone(request):
    """The phone column for this request's user (masked unless they may see it), made once per
    request: admin instances are shared by every request, so the user cannot live on them."""
    column = getattr(request, "_member_phone_column", None)
    if column is None:

        @admin.display(description=_("phone"))
        def column(obj):
            member = obj.member if isinstance(obj, RedPacket | WalletEntry) else obj
            return selectors.phone_for(request.user, member)

        request._member_phone_column = column
    return column


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_filter = ["level", "home_store"]
    search_fields = ["name"]
    readonly_fields = [
        "level", "total_spend", "consent_at", "consent_place", "enrolled_by", "created_at",
        "erased_at",
    ]  # fmt: skip
    actions = ["export_data", "erase"]

    def get_list_display(self, request):
        return [_phone(request), "name", "level", "home_store", "total_spend", "created_at"]

    def get_fields(self, request, obj=None):
        return [_phone(request), "name", "home_store", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [_phone(request), *self.readonly_fields]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("level", "enrolled_by")

    def get_search_results(self, request, queryset, search_term):
        """A phone number in any spelling finds its member (exact: never a partial phone)."""
        try:
            phone = normalize_phone(search_term)
        except PhoneError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(phone=phone), False

    def has_add_permission(self, request):
        return False  # members enrol at the counter or the kiosk (consent and a code)

    def has_delete_permission(self, request, obj=None):
        return False  # erasure anonymises; orders and records stay

    @admin.action(description=_("Export what we hold about them (JSON)"))
    def export_data(self, request, queryset):
        if not request.user.has_perm("promotions.see_member_phone"):
            self.message_user(request, gettext("You may not export members."), messages.ERROR)
            return None
        data = [selectors.member_data(m) for m in queryset.order_by("pk")]
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="members.json"'
        return response

    @admin.action(description=_("Erase (anonymise) the selected members"))
    def erase(self, request, queryset):
        done = 0
        for member in queryset.order_by("pk"):
            try:
                services.erase_member(member=member, actor=request.user)
                done += 1
            except PromotionError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
        self.message_user(request, gettext("%(n)d member(s) erased.") % {"n": done})


class PromotionForm(forms.ModelForm):
    class Meta:
        model = Promotion
        fields = ["code", *EDITABLE]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        candidate = Promotion(**{k: v for k, v in _normalise(data).items() if k in EDITABLE})
        try:
            _check_shape(candidate)
        except PromotionError as exc:
            raise forms.ValidationError(exc.message) from None
        reason = could_go_negative(candidate)
        if reason:
            raise forms.ValidationError(
                gettext("This promotion could give a negative amount (%(why)s).") % {"why": reason}
            )
        return data


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    form = PromotionForm
    list_display = [
        "name", "key", "kind", "status", "starts_at", "ends_at", "times_used", "amount_given",
        "created_by", "approved_by",
    ]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["code", "name"]
    actions = ["approve", "make_new_version", "retire"]
    readonly_fields = ["version", "status", "times_used", "amount_given", "supersedes", "created_by",
                       "created_at", "approved_by", "approved_at"]  # fmt: skip

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("created_by", "approved_by")
            .annotate(n_used=Count("usages"), n_given=Sum("usages__amount"))
        )

    @admin.display(description=_("uses so far"), ordering="n_used")
    def times_used(self, obj):
        return obj.n_used

    @admin.display(description=_("given so far"), ordering="n_given")
    def amount_given(self, obj):
        return obj.n_given or Decimal("0.00")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        if obj.status == Promotion.Status.RETIRED or obj.usages.exists():
            return ["code", *EDITABLE, *self.readonly_fields]  # used: a new version instead
        return ["code", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        fields = {k: form.cleaned_data[k] for k in EDITABLE if k in form.cleaned_data}
        try:
            if change:
                saved = services.update_promotion(promotion=obj, actor=request.user, **fields)
            else:
                saved = services.create_promotion(
                    actor=request.user, code=form.cleaned_data["code"], **fields
                )
        except PromotionError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    @admin.action(description=_("Approve the selected promotions"))
    def approve(self, request, queryset):
        for promotion in queryset.order_by("pk"):
            try:
                services.approve_promotion(promotion=promotion, actor=request.user)
            except PromotionError as exc:
                self.message_user(request, f"{promotion}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, gettext("%(p)s approved.") % {"p": promotion})

    @admin.action(description=_("Make a new version (draft) of the selected promotions"))
    def make_new_version(self, request, queryset):
        for promotion in queryset.order_by("pk"):
            try:
                copy = services.new_version(promotion=promotion, actor=request.user)
            except PromotionError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, gettext("%(p)s created.") % {"p": copy})

    @admin.action(description=_("Retire the selected promotions"))
    def retire(self, request, queryset):
        for promotion in queryset.order_by("pk"):
            try:
                services.retire_promotion(promotion=promotion, actor=request.user)
            except PromotionError as exc:
                self.message_user(request, exc.message, messages.ERROR)


@admin.register(PromotionUsage)
class PromotionUsageAdmin(ReadOnlyAdmin):
    list_display = ["promotion", "order_ref", "amount", "created_at"]
    search_fields = ["order_ref", "promotion__code"]


class WalletEntryInline(admin.TabularInline):
    model = WalletEntry
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "amount", "order_ref", "return_ref", "actor"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RedPacket)
class RedPacketAdmin(ReadOnlyAdmin):
    list_filter = ["status", "store_code"]
    search_fields = ["order_ref", "spent_on"]
    inlines = [WalletEntryInline]

    def get_list_display(self, request):
        return ["ref", _phone(request), "order_ref", "store_code", "earned", "taken_back",
                "status", "earned_at", "issued_at", "spent_on"]  # fmt: skip

    def get_fields(self, request, obj=None):
        return ["ref", _phone(request), "order_ref", "store_code", "order_net", "earned",
                "taken_back", "refunded_net", "status", "earned_at", "issued_at", "spent_on",
                "spent_amount", "spent_at"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")

    @admin.display(description=_("red packet"))
    def ref(self, obj):
        return obj.ref


@admin.register(WalletEntry)
class WalletEntryAdmin(ReadOnlyAdmin):
    list_filter = ["kind"]
    search_fields = ["order_ref", "return_ref"]

    def get_list_display(self, request):
        return ["created_at", _phone(request), "kind", "amount", "order_ref", "return_ref"]

    def get_fields(self, request, obj=None):
        return ["created_at", _phone(request), "packet", "kind", "amount", "order_ref",
                "return_ref", "actor"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")
