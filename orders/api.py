"""Service-order API (``/api/v1/orders``): thin routes over ``orders.services``. They
commit nothing: the request's unit of work does, and a ``DomainError`` becomes
API.md's error shape in ``core.errors``. Bodies come from ``orders.serializers``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import Field

from accounts.models import Role
from core.access import record_access, record_access_many
from core.api import Body, Out, Page, Paging, answer, api_user, page_json, route
from core.bounds import Id, IsoDate, LongText, Text
from core.extensions import db
from orders import policy, services
from orders.models import Offer, OrderEvent, OrderStatus, ServiceOrder
from orders.scopes import scope_orders
from orders.serializers import event_json, order_json, visit_json

TAGS = ("Service orders",)
STATUSES = tuple(str(s) for s in OrderStatus)
MODES = ("single", "broadcast", "ranked")


# --------------------------------------------------------------------------- declarations

class OrderClient(Out):
    """What the caller may see of the client: a provider that has not won the order
    sees only `postal_code` and `languages`"""

    id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    address: str | None = None
    postal_code: str
    municipality: str | None = None
    phone: str | None = None
    languages: list[str]


class OrderOffer(Out):
    provider_id: int
    status: Literal["pending", "accepted", "declined", "expired", "withdrawn"]
    sent_at: datetime | None
    deadline_at: datetime | None


class NamedRef(Out):
    id: int
    name: str


class Order(Out):
    """A service order"""

    id: int
    number: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    url: str
    service_type_id: int
    service_type: str
    client_id: int | None = Field(description="null for a provider that has not won the order")
    client: OrderClient
    provider_id: int | None
    provider: NamedRef | None
    funding: str
    offer_mode: str | None
    instructions: str | None
    start_date: date | None
    end_date: date | None
    visits_per_week: int | None
    minutes_per_visit: int | None
    created_at: datetime
    accepted_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    escalated_at: datetime | None
    outcome: str | None
    outcome_note: str | None
    cancel_reason: str | None
    has_concern: bool | None
    offers: list[OrderOffer]
    feedback_url: str | None = Field(None, description="Staff, completed orders: the absolute feedback link")


class OrderAnswer(Out):
    """The order's new state"""

    id: int
    number: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    provider_id: int | None = None
    offer_status: str | None = None
    outcome: str | None = None


class Visit(Out):
    """The visit reported"""

    id: int
    order_id: int
    date: date
    minutes: int
    tasks: list[str]
    note: str | None
    concern: bool
    created_at: datetime


class EventActor(Out):
    id: int
    name: str | None
    role: str


class OrderEventOut(Out):
    at: datetime
    actor: EventActor | None
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None = Field(description="What a person wrote (a reason, the outcome note), else the system's "
                                          "note in the language of Accept-Language")
    code: str | None = Field(default=None, description="The system's note as a message code (see docs/translations.md)")
    params: dict | None = Field(default=None, description="The parameters of `code`")


class OrderIn(Body):
    client_id: Id
    service_type_id: Id
    provider_ids: list[Id] | None = Field(None, max_length=200,
                                          description="Without it: every eligible provider")
    mode: Literal[MODES] | None = None  # type: ignore[valid-type]
    funding: Literal["municipality", "voucher", "self_paid"] = "municipality"
    instructions: LongText(4000) = ""
    start_date: IsoDate
    end_date: IsoDate | None = None
    visits_per_week: int | None = Field(None, ge=1, le=21)
    minutes_per_visit: int | None = Field(None, ge=5, le=24 * 60)
    voucher_id: Id | None = Field(None, description="Fund the order with this voucher (same client and service "
                                                    "type, else 422 `voucher_mismatch`)")


class OrderQuery(Paging):
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]


class DeclineIn(Body):
    reason: Text(1000)


class CancelIn(Body):
    reason: Text(2000)


class VisitIn(Body):
    date: IsoDate
    minutes: int = Field(ge=1, le=24 * 60)
    tasks: list[Text(200)] = Field([], max_length=services.MAX_TASKS)
    note: LongText(4000) | None = None
    concern: bool = False
    urgency: Literal["today", "week"] = Field("week", description="How soon a concern needs attention")
    missed: bool = Field(False, description="The provider came but the client was not reached")


class CompleteIn(Body):
    reason: LongText(2000) | None = Field(None, description="Why an ongoing order ends now")


class CloseIn(Body):
    outcome: Literal["received", "not_received"]
    note: LongText(2000) | None = None


class ReofferIn(Body):
    provider_ids: list[Id] | None = Field(None, max_length=200)
    mode: Literal[MODES] | None = None  # type: ignore[valid-type]


# --------------------------------------------------------------------------- routes

@route("POST", "/orders", "Place a service order and offer it", roles=(Role.STAFF,), body=OrderIn, tags=TAGS,
       responses={201: Order},
       errors={422: "Invalid fields, or no_consent, no_eligible_provider, ineligible_provider (naming them)"})
def create_order(body: OrderIn):
    fields = body.model_dump(exclude={"provider_ids"})
    order = services.place_order(api_user(), provider_ids=body.provider_ids or None, **fields)
    return answer(order_json(order, api_user()), 201)


@route("GET", "/orders", "Orders visible to the caller (staff: all; a provider: offered to or won by its "
       "organisation; a client: their own)", query=OrderQuery, tags=TAGS, responses={200: Page[Order]})
def list_orders(query: OrderQuery):
    user = api_user()
    limit = query.limit
    stmt = scope_orders(sa.select(ServiceOrder), user).options(
        sa.orm.joinedload(ServiceOrder.client), sa.orm.joinedload(ServiceOrder.service_type),
        sa.orm.joinedload(ServiceOrder.provider), sa.orm.selectinload(ServiceOrder.offers))
    if query.status:
        stmt = stmt.where(ServiceOrder.status == query.status)
    if query.cursor:
        stmt = stmt.where(ServiceOrder.id < query.cursor)
    rows = db.session.scalars(stmt.order_by(ServiceOrder.id.desc()).limit(limit + 1)).unique().all()
    items = [order_json(o, user) for o in rows[:limit]]
    shown = [o.client_id for o in rows[:limit] if policy.sees_identity(o, user)]
    record_access_many(shown, "list", policy.access_purpose(user), what="orders list")
    return answer(page_json(items, rows, limit, "api.list_orders"))


def _visible(order_id: int) -> ServiceOrder:
    return services.visible_order(api_user(), order_id)


@route("GET", "/orders/<int:order_id>", "One order (a provider that has not won it sees no client identity)",
       tags=TAGS, responses={200: Order})
def get_order(order_id: int):
    user = api_user()
    order = _visible(order_id)
    if policy.sees_identity(order, user):
        record_access(order.client_id, "view", policy.access_purpose(user), what=f"order {order.number}")
    return answer(order_json(order, user))


def _answer(order: ServiceOrder, **extra):
    return answer({"id": order.id, "number": order.number, "status": order.status, **extra})


@route("POST", "/orders/<int:order_id>/accept", "Accept an offer (first accept wins)", roles=(Role.PROVIDER,),
       tags=TAGS, responses={200: OrderAnswer},
       errors={404: "Never offered to your organisation",
               409: "`already_taken`, or your offer is no longer pending"})
def accept_order(order_id: int):
    order = services.accept_offer(api_user(), order_id)
    return _answer(order, provider_id=order.provider_id)


@route("POST", "/orders/<int:order_id>/decline", "Decline an offer with a reason", roles=(Role.PROVIDER,),
       body=DeclineIn, tags=TAGS, responses={200: OrderAnswer}, errors={409: "Your offer is no longer pending"})
def decline_order(order_id: int, body: DeclineIn):
    order = services.decline_offer(api_user(), order_id, body.reason)
    offer_status = db.session.scalar(sa.select(Offer.status).where(
        Offer.order_id == order_id, Offer.provider_id == api_user().provider_id))
    return _answer(order, offer_status=offer_status)


@route("POST", "/orders/<int:order_id>/visits", "Report a visit (the winning provider); the first moves the "
       "order to in_progress", roles=(Role.PROVIDER,), body=VisitIn, tags=TAGS, responses={201: Visit},
       errors={409: "The order is not accepted or in progress",
               422: "Invalid fields; a concern needs a `note` saying what was noticed"})
def report_visit(order_id: int, body: VisitIn):
    visit = services.record_visit(api_user(), order_id, visit_date=body.date, minutes=body.minutes,
                                  tasks=list(dict.fromkeys(body.tasks)), note=body.note, concern=body.concern,
                                  urgency=body.urgency, missed=body.missed)
    return answer(visit_json(visit), 201)


@route("POST", "/orders/<int:order_id>/complete", "Complete the order (sends the client a feedback link)",
       roles=(Role.PROVIDER,), body=CompleteIn, body_required=False, tags=TAGS, responses={200: OrderAnswer},
       errors={403: "Only the organisation's administrators (its setting)", 409: "`no_visits`, or not in progress",
               422: "`reason_required`: an ongoing order needs the reason it ends now"})
def complete(order_id: int, body: CompleteIn):
    order = services.complete_order(api_user(), order_id, body.reason)
    return _answer(order)


@route("POST", "/orders/<int:order_id>/close", "Close the loop: did the client get the service? (only from "
       "completed)", roles=(Role.STAFF,), body=CloseIn, tags=TAGS, responses={200: OrderAnswer},
       errors={409: "Not completed"})
def close(order_id: int, body: CloseIn):
    order = services.close_order(api_user(), order_id, body.outcome, body.note)
    return _answer(order, outcome=order.outcome)


@route("POST", "/orders/<int:order_id>/cancel", "Cancel with a reason (not after completion)",
       roles=(Role.STAFF,), body=CancelIn, tags=TAGS, responses={200: OrderAnswer},
       errors={409: "Completed, closed or already cancelled"})
def cancel(order_id: int, body: CancelIn):
    order = services.cancel_order(api_user(), order_id, body.reason)
    return _answer(order)


@route("POST", "/orders/<int:order_id>/reoffer", "Offer an escalated order again", roles=(Role.STAFF,),
       body=ReofferIn, tags=TAGS, responses={200: Order},
       errors={409: "Not escalated", 422: "Invalid fields, or no_eligible_provider, ineligible_provider"})
def reoffer(order_id: int, body: ReofferIn):
    order = services.reoffer_order(api_user(), order_id, body.provider_ids or None, body.mode)
    return answer(order_json(order, api_user()))


@route("GET", "/orders/<int:order_id>/events", "The order's timeline", tags=TAGS,
       responses={200: Page[OrderEventOut]})
def order_events(order_id: int):
    user = api_user()
    order = _visible(order_id)
    stmt = sa.select(OrderEvent).where(OrderEvent.order_id == order.id).options(
        sa.orm.joinedload(OrderEvent.actor)).order_by(OrderEvent.id)
    if user.role == Role.PROVIDER and not policy.is_winner(order, user):
        # A provider that has not won sees only the events of its own offer.
        stmt = stmt.where(sa.or_(OrderEvent.provider_id == user.provider_id, OrderEvent.action == "create"))
    items = [event_json(e, user) for e in db.session.scalars(stmt)]
    return answer({"items": items, "next": None})
