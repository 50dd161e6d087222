"""Voucher API (API.md "Service vouchers (palveluseteli)"): ``POST /vouchers``
(staff), ``GET /vouchers/{id}`` (staff; the client; the provider of an order it
funds), ``POST /orders/{id}/service-events`` (the winning provider),
``POST /service-events/{id}/approve`` (staff), ``POST /settlements`` (admin) and
``GET /settlements/{id}`` (admin; a provider its own line); beyond the contract:
the order's events, refusing and correcting an event, and the statement files.
The same services as the web pages; the request's unit of work commits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from flask_babel import gettext as _
from flask_babel import ngettext
from pydantic import Field

from accounts.models import Role
from core.access import record_access
from core.api import Body, Out, Page, Query, answer, api_user, route
from core.bounds import MAX_INT, Id, IsoDate, LongText
from core.errors import NotFoundError, ValidationFailed
from vouchers import policy
from vouchers import services as svc
from vouchers.models import EventStatus, SettlementStatus, VoucherStatus, VoucherUnit
from vouchers.serializers import event_json, settlement_json, voucher_json
from vouchers.statements import county_response, statement_response

TAGS = ("Service vouchers",)
UNITS = tuple(str(u) for u in VoucherUnit)
MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"
_ID = {"voucher_id": "id", "order_id": "id", "event_id": "id", "settlement_id": "id"}


# --------------------------------------------------------------------------- declarations

class Balance(Out):
    """The voucher's balance in the current month"""

    month: str
    period_start: date
    period_end: date
    granted: int = Field(description="minutes, visits or cents")
    used: int
    remaining: int


class ServiceVoucherOut(Out):
    """A service voucher with this month's balance"""

    id: int
    client_id: int
    service_type_id: int
    status: Literal[tuple(str(s) for s in VoucherStatus)]  # type: ignore[valid-type]
    unit: Literal[UNITS]  # type: ignore[valid-type]
    monthly_amount: int = Field(description="minutes, visits or cents a month")
    value_cents_per_unit: int | None
    currency: str
    renews: bool
    valid_from: date
    valid_to: date | None
    free_to_client: bool
    balance: Balance
    created_at: datetime | None
    closed_at: datetime | None


class ServiceEventOut(Out):
    """A service event"""

    id: int
    voucher_id: int
    order_id: int | None
    provider_id: int | None
    date: date
    quantity: int = Field(description="minutes, visits or cents")
    unit: Literal[UNITS]  # type: ignore[valid-type]
    status: Literal[tuple(str(s) for s in EventStatus)]  # type: ignore[valid-type]
    voucher_cents: int
    client_share_cents: int
    currency: str
    corrects_id: int | None
    refusal_reason: str | None
    auto_approved: bool | None
    settlement_id: int | None
    recorded_at: datetime | None
    approved_at: datetime | None
    settled_at: datetime | None
    paid_at: datetime | None


class SettlementLineOut(Out):
    provider_id: int
    events: int
    voucher_cents: int
    client_share_cents: int
    credit_cents: int
    payable_cents: int
    currency: str
    statement_pdf_url: str
    statement_csv_url: str


class SettlementOut(Out):
    """A month's settlement (a provider sees only its own line)"""

    id: int
    month: str
    status: Literal[tuple(str(s) for s in SettlementStatus)]  # type: ignore[valid-type]
    lines: list[SettlementLineOut]
    download_url: str | None
    created_at: datetime | None
    done_at: datetime | None
    paid_at: datetime | None


class VoucherFigures(Out):
    """Voucher use per month, category and provider (cells of groups under `small_group_limit` clients are
    null)"""

    from_: str = Field(alias="from")
    to: str
    small_group_limit: int
    currency: str
    use_by_month_and_category: list[dict[str, Any]]
    use_by_provider: list[dict[str, Any]]
    share_of_granted_value_used: list[dict[str, Any]]
    settlements: list[dict[str, Any]]


class VoucherIn(Body):
    client_id: Id
    service_type_id: Id
    unit: Literal[UNITS]  # type: ignore[valid-type]
    monthly_amount: int = Field(ge=1, le=svc.MAX_AMOUNT, description="minutes, visits or cents a month")
    value_cents_per_unit: int | None = Field(None, ge=1, le=svc.MAX_VALUE_CENTS,
                                             description="required for hour and visit")
    valid_from: IsoDate
    valid_to: IsoDate | None = None
    renews: bool = True


class ReasonIn(Body):
    reason: LongText(2000, min_length=1)


class ServiceEventIn(Body):
    date: IsoDate
    quantity: int = Field(ge=1, le=svc.MAX_AMOUNT, description="minutes, visits or cents")


class CorrectionIn(Body):
    quantity: int = Field(ge=0, le=svc.MAX_AMOUNT, description="the right quantity (0 cancels the event)")
    reason: LongText(2000, min_length=1)


class SettlementIn(Body):
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM, a month that is over")


class FiguresQuery(Query):
    from_: str | None = Field(None, alias="from", pattern=MONTH_PATTERN,
                              description="YYYY-MM (default: a year before `to`)")
    to: str | None = Field(None, pattern=MONTH_PATTERN, description="YYYY-MM (default: this month)")


_STATEMENT = {"description": "The provider's statement (PDF or CSV)", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "text/csv": {"schema": {"type": "string"}}}}
_COUNTY = {"description": "The county's settlement file", "content": {"application/json": {"schema": {}}}}


# --------------------------------------------------------------------------- routes

@route("POST", "/vouchers", "Grant a service voucher", roles=(Role.STAFF,), body=VoucherIn, tags=TAGS,
       responses={201: ServiceVoucherOut}, errors={422: "Invalid fields, or `no_consent`"})
def grant_voucher(body: VoucherIn):
    voucher = svc.grant_voucher(api_user(), **body.model_dump())
    return answer(voucher_json(voucher, api_user()), 201)


@route("GET", "/vouchers/<int:voucher_id>", "One voucher with this month's balance (staff; the client; the "
       "provider of an order it funds)", tags=TAGS, param_names=_ID, responses={200: ServiceVoucherOut},
       errors={404: "Not found or not visible"})
def get_voucher(voucher_id: int):
    user = api_user()
    voucher = svc.visible_voucher(user, voucher_id)
    record_access(voucher.client_id, "view", policy.access_purpose(user, voucher.client_id),
                  what=f"service voucher {voucher.id}")
    return answer(voucher_json(voucher, user))


@route("POST", "/vouchers/<int:voucher_id>/close", "Close a voucher (no more events can be recorded on it)",
       roles=(Role.STAFF,), body=ReasonIn, tags=TAGS, param_names=_ID, responses={200: ServiceVoucherOut},
       errors={409: "Already closed"})
def close_voucher(voucher_id: int, body: ReasonIn):
    return answer(voucher_json(svc.close_voucher(api_user(), voucher_id, body.reason), api_user()))


@route("POST", "/orders/<int:order_id>/service-events", "Record a service event on a voucher-funded order",
       roles=(Role.PROVIDER,), body=ServiceEventIn, tags=TAGS, param_names=_ID, responses={201: ServiceEventOut},
       errors={409: "The order is not in a state that takes events",
               422: "`over_balance`, `outside_period`, `own_share_not_allowed`, `not_voucher_funded` or invalid "
                    "fields"})
def record_service_event(order_id: int, body: ServiceEventIn):
    event = svc.record_event(api_user(), order_id, event_date=body.date, quantity=body.quantity)
    return answer(event_json(event), 201)


@route("GET", "/orders/<int:order_id>/service-events", "The order's service events",
       roles=(Role.STAFF, Role.PROVIDER), tags=TAGS, param_names=_ID, responses={200: Page[ServiceEventOut]})
def list_service_events(order_id: int):
    from orders.services import visible_order

    user = api_user()
    order = visible_order(user, order_id)
    if policy.is_provider(user) and order.provider_id != user.provider_id:
        raise NotFoundError(_("Order not found."))
    return answer({"items": [event_json(e) for e in svc.events_of_order(user, order.id)], "next": None})


@route("POST", "/service-events/<int:event_id>/approve", "Approve an event", roles=(Role.STAFF,), tags=TAGS,
       param_names=_ID, responses={200: ServiceEventOut}, errors={409: "Not recorded or under review"})
def approve_service_event(event_id: int):
    return answer(event_json(svc.approve_event(api_user(), event_id)))


@route("POST", "/service-events/<int:event_id>/refuse", "Send an event back to the provider with a reason",
       roles=(Role.STAFF,), body=ReasonIn, tags=TAGS, param_names=_ID, responses={200: ServiceEventOut},
       errors={409: "Not refusable"})
def refuse_service_event(event_id: int, body: ReasonIn):
    return answer(event_json(svc.refuse_event(api_user(), event_id, body.reason)))


@route("POST", "/service-events/<int:event_id>/correct", "Correct a settled event (a credit in the next "
       "settlement; the provider that recorded it, or staff)", roles=(Role.STAFF, Role.PROVIDER), body=CorrectionIn,
       tags=TAGS, param_names=_ID, responses={201: ServiceEventOut},
       errors={409: "Not settled, or a correction is already waiting"})
def correct_service_event(event_id: int, body: CorrectionIn):
    event = svc.correct_event(api_user(), event_id, quantity=body.quantity, reason=body.reason)
    return answer(event_json(event), 201)


@route("POST", "/settlements", "Settle a month (run by a job)", roles=(Role.ADMIN,), body=SettlementIn, tags=TAGS,
       responses={202: SettlementOut}, errors={422: "`month_not_over` or invalid month"})
def request_settlement(body: SettlementIn):
    month = svc.parse_month(body.month)
    if month is None:
        raise ValidationFailed(_("The month is invalid."), fields={"month": [_("Must be YYYY-MM.")]})
    settlement = svc.request_settlement(api_user(), month)
    return answer(settlement_json(settlement, api_user()), 202)


@route("GET", "/settlements/<int:settlement_id>", "A settlement (a provider sees its own line)",
       roles=(Role.ADMIN, Role.PROVIDER), tags=TAGS, param_names=_ID, responses={200: SettlementOut})
def get_settlement(settlement_id: int):
    user = api_user()
    settlement = svc.visible_settlement(user, settlement_id)
    if policy.is_provider(user) and not svc.visible_lines(user, settlement):
        raise NotFoundError(_("Settlement not found."))
    return answer(settlement_json(settlement, user))


@route("GET", "/settlements/<int:settlement_id>/statements/<file>", "A provider's statement of a settlement",
       description="`file` is `{provider_id}.pdf` or `{provider_id}.csv` (the links are in the settlement's "
                   "lines); a provider gets only its own.",
       roles=(Role.ADMIN, Role.PROVIDER), tags=TAGS, param_names=_ID, responses={200: _STATEMENT})
def settlement_statement(settlement_id: int, file: str):
    provider_id, _dot, ext = file.partition(".")
    if not provider_id.isdigit() or not 1 <= int(provider_id[:11]) <= MAX_INT or ext not in ("pdf", "csv"):
        raise NotFoundError(_("Statement not found."))
    user = api_user()
    line = svc.visible_line(user, settlement_id, int(provider_id))
    return statement_response(svc.visible_settlement(user, settlement_id), line, ext)


@route("GET", "/settlements/<int:settlement_id>/county.json", "The county's settlement file",
       roles=(Role.ADMIN,), tags=TAGS, param_names=_ID, responses={200: _COUNTY})
def settlement_county_file(settlement_id: int):
    user = api_user()
    settlement = svc.visible_settlement(user, settlement_id)
    return county_response(settlement, svc.visible_lines(user, settlement))


@route("GET", "/voucher-figures", "Voucher use per month, category and provider, the share of the granted value "
       "used and the settlement totals (groups of fewer than 5 clients suppressed)",
       roles=(Role.MANAGER, Role.ADMIN), query=FiguresQuery, tags=TAGS, responses={200: VoucherFigures})
def voucher_figures(query: FiguresQuery):
    from core.time import local_today
    from vouchers.figures import voucher_figures as figures

    errors = {}
    months = {}
    for name, text in (("from", query.from_), ("to", query.to)):
        months[name] = svc.parse_month(text) if text else None
        if text and months[name] is None:
            errors[name] = [_("Must be YYYY-MM.")]
    if errors:
        raise ValidationFailed(_("Invalid months."), fields=errors)
    end = months["to"] or svc.month_start(local_today())
    start = months["from"] or svc.month_start(end.replace(day=1).replace(year=end.year - 1))
    if start > end:
        raise ValidationFailed(_("The period ends before it starts."), fields={"from": [_("After `to`.")]})
    if (end.year - start.year) * 12 + end.month - start.month > 36:
        raise ValidationFailed(ngettext("At most %(num)d month.", "At most %(num)d months.", 36),
                               fields={"from": [ngettext("At most %(num)d month before `to`.",
                                                         "At most %(num)d months before `to`.", 36)]})
    return answer(figures(start, end))
