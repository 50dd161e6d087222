"""Read side of clients: the client's services ("My services"), the network of
everyone working with a client, message threads, the access log in plain words and
the data export. Queries are scoped through ``accounts.permissions`` and their
number does not grow with the rows shown. Functions here write no access-log rows
unless their docstring says so: the page that shows the data writes one row per
client and request."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import aliased, joinedload

from accounts.models import Role, User
from clients.scopes import ANY, mandate_in_force
from orders.queries import type_name_column
from orders.scopes import scope_orders
from clients.models import (
    Client, ClientEvent, ClientRepresentative, Concern, FollowUp, GuidanceContact, MandateScope, Message, NetworkMember,
)
from clients import policy
from clients.base import ACTIVE_ORDER_STATES
from clients.messaging import mark_messages_read
from clients.texts import network_responsibility, network_role
from clients.serializers import access_entry_json, client_json, json_value
from core.access import Purpose, record_access
from core.current import unproxied
from core.db import UTCDateTime, utcnow
from core.errors import NotFoundError
from core.extensions import db
from core.kept import Kept
from core.models import AccessLogEntry
from core.templating import labeller, role_label
from core.uow import write_access_rows_now
from core.i18n import current_language, text_of
from core.time import local_date, local_today
from catalogue.models import ServiceType
from orders.models import ServiceOrder, VisitReport
from providers.models import Provider

PAGE_SIZE = 50


# -- whose data a client-role user is looking at -------------------------------

_acting_statements: dict = {}  # day -> the statement of acting_client_ids


def _represented(scope: str | None, today: date) -> sa.CompoundSelect:
    """``represented_client_ids`` with the user's ids bound (``own_id``, ``user_id``)
    instead of written in, so that it is built once per scope and day and not per
    request; the mandates are read each time it runs, as there."""
    return sa.union(
        sa.select(sa.bindparam("own_id", type_=sa.Integer)),
        sa.select(ClientRepresentative.client_id).where(
            ClientRepresentative.user_id == sa.bindparam("user_id", type_=sa.Integer),
            *mandate_in_force(scope, today)))


def _core_rows(stmt, values: dict) -> list:
    """A statement's rows of plain columns, run on the session's connection (its
    transaction) as a Core statement, as ``orders.queries._rows`` does: the ORM's
    execution around a statement without entities (its compile state, the
    ``do_orm_execute`` hooks, autoflush) cost about 60 µs of CPU per statement for
    nothing on the pages that read these. For reads only, of rows nothing earlier
    in the request has changed through the ORM unflushed."""
    return db.session.connection().execute(stmt, values).all()


def _user_ids(user) -> dict:
    """The bound values of ``_represented`` (-1: a relative without a record of their own)."""
    user = unproxied(user)
    return {"user_id": user.id, "own_id": user.client_id if user.client_id is not None else -1}


def acting_client_ids(user) -> list[int]:
    """Ids of the clients a client-role user may act for (a mandate of any scope in
    force today), own record first."""
    if user is None or user.role != Role.CLIENT:
        return []
    today = local_today()
    stmt = _acting_statements.get(today)
    if stmt is None:
        _acting_statements.clear()  # yesterday's validity
        stmt = _acting_statements[today] = sa.select(Client.id).where(
            Client.id.in_(_represented(ANY, today)), Client.erased_at.is_(None))
    live = {row[0] for row in _core_rows(stmt, _user_ids(user))}
    return sorted(live, key=lambda i: (i != user.client_id, i))


def acting_clients(user) -> list[Client]:
    """The clients a client-role user may act for (own first), for a chooser."""
    ids = acting_client_ids(user)
    if not ids:
        return []
    rows = {c.id: c for c in db.session.scalars(sa.select(Client).where(Client.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


# -- "My services" -------------------------------------------------------------

ARRANGING = ("offered", "escalated")
PAST = ("completed", "closed", "cancelled")


@dataclass
class ServiceView:
    """One order as the client sees it."""

    order: object
    phase: str  # arranging | active | past
    visits: list = field(default_factory=list)  # latest first, at most 5
    visit_count: int = 0
    last_visit: object | None = None
    started: bool = False  # the start date has passed
    ended: bool = False    # the end date has passed
    card: object = None    # the portfolio's texts (clients.portfolio.Card)


LATEST_VISITS = 5  # shown per order on the client's page


_latest_visits: list = []  # _latest_visits_statement(), once built


def _latest_visits_statement():
    """The latest visits of each of the bound ``order_ids`` and each order's number of
    visits, in one statement: the visits ranked within their order, the order's count
    beside. Built at first use (not at import) and reused: building it was a fair
    share of the page's time."""
    if not _latest_visits:
        window = {"partition_by": VisitReport.order_id}
        ranked = sa.select(
            VisitReport.id, VisitReport.order_id, VisitReport.date, VisitReport.minutes, VisitReport.tasks,
            sa.func.row_number().over(**window, order_by=(VisitReport.date.desc(), VisitReport.id.desc())).label("rank"),
            sa.func.count().over(**window).label("total"),
        ).where(VisitReport.order_id.in_(sa.bindparam("order_ids", expanding=True))).subquery()
        _latest_visits.append(sa.select(ranked).where(ranked.c.rank <= LATEST_VISITS)
                              .order_by(ranked.c.order_id, ranked.c.date.desc(), ranked.c.id.desc()))
    return _latest_visits[0]


def _service_columns() -> tuple:
    return (ServiceOrder.id, ServiceOrder.status, ServiceOrder.start_date, ServiceOrder.end_date,
            ServiceOrder.visits_per_week, ServiceOrder.minutes_per_visit, ServiceOrder.provider_id,
            Provider.name.label("provider_name"), Provider.phone.label("provider_phone"))


def client_services(user, client_id: int) -> dict:
    """The client's orders grouped as "being arranged", "now" and "finished", with
    the latest visits of each. Scoped through ``scope_orders``: another client's id
    gives nothing. Two queries however many orders and visits there are: a
    long-running service has hundreds of visits, and only the latest few, their
    number and the last date are read. Each ``ServiceView.order`` is a row of the
    shown columns, not an ORM object: ``id``, ``status``, ``start_date``,
    ``end_date``, ``visits_per_week``, ``minutes_per_visit``, ``provider_id``,
    ``provider_name`` and ``provider_phone`` (None without a provider) and
    ``service`` (the service type's name in the reader's language)."""
    listed = (scope_orders(sa.select(*_service_columns(), type_name_column().label("service"))
                           .join(ServiceType, ServiceType.id == ServiceOrder.service_type_id)
                           .outerjoin(Provider, Provider.id == ServiceOrder.provider_id), user)
              .where(ServiceOrder.client_id == client_id)
              .order_by(ServiceOrder.start_date.desc(), ServiceOrder.id.desc()).limit(100))
    return _grouped(db.session.execute(listed).all())


def _grouped(orders: list) -> dict:
    """``orders`` (rows with the columns of ``client_services``) as ServiceViews in
    their groups, each with its latest visits (one statement, none without orders)."""
    ids = [order.id for order in orders]
    counts: dict[int, int] = {}
    latest: dict[int, list] = {}
    if ids:
        for visit in _core_rows(_latest_visits_statement(), {"order_ids": ids}):
            latest.setdefault(visit.order_id, []).append(visit)
            counts[visit.order_id] = visit.total
    today = local_today()
    groups: dict[str, list[ServiceView]] = {"arranging": [], "active": [], "past": []}
    for order in orders:
        phase = "arranging" if order.status in ARRANGING else "past" if order.status in PAST else "active"
        visits = latest.get(order.id, [])
        groups[phase].append(ServiceView(
            order=order, phase=phase, visits=visits, visit_count=counts.get(order.id, 0),
            last_visit=visits[0] if visits else None, started=order.start_date <= today,
            ended=order.end_date is not None and order.end_date < today))
    groups["active"].sort(key=lambda s: (s.order.start_date, s.order.id))
    return groups


@dataclass(frozen=True, slots=True)
class Worker:
    """The responsible worker as the portfolio shows them."""

    name: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class PortfolioClient:
    """The client whose services the portfolio shows: the shown columns only."""

    id: int
    first_name: str
    last_name: str
    responsible_worker: Worker | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


_portfolio_statements: dict = {}  # (language, day) -> _build_portfolio_statement(…)


def _build_portfolio_statement(lang: str, today: date) -> sa.Select:
    """The client (bound ``client_id``) with their responsible worker, the number of
    unread messages from the staff side and the shown columns of their latest 100
    orders, one row per order (one row of NULL order columns without orders), in
    one statement. Scoped as ``represented_client_ids`` scopes it (the user's own
    record, bound ``own_id``, or a mandate of the bound ``user_id`` in force
    ``today`` covering the services): another client's id gives no row."""
    represented = _represented(MandateScope.SERVICES, today)
    client_id = sa.bindparam("client_id", type_=sa.Integer)
    worker = aliased(User)
    # On the bound id, not correlated: PostgreSQL counts once (an InitPlan), not per order row.
    unread = sa.select(sa.func.count()).select_from(Message).where(
        Message.client_id == client_id, Message.read_at.is_(None),
        Message.sender_id.in_(sa.select(User.id).where(User.role != Role.CLIENT))).scalar_subquery()
    return (sa.select(Client.id.label("client_id"), Client.first_name, Client.last_name,
                      worker.id.label("worker_id"), worker.name.label("worker_name"),
                      worker.phone.label("worker_phone"), unread.label("unread"),
                      *_service_columns(), type_name_column(lang).label("service"))
            .select_from(Client)
            .outerjoin(worker, worker.id == Client.responsible_worker_id)
            .outerjoin(ServiceOrder, ServiceOrder.client_id == Client.id)
            .outerjoin(ServiceType, ServiceType.id == ServiceOrder.service_type_id)
            .outerjoin(Provider, Provider.id == ServiceOrder.provider_id)
            .where(Client.id == client_id, Client.erased_at.is_(None),
                   Client.id.in_(represented))
            .order_by(ServiceOrder.start_date.desc(), ServiceOrder.id.desc()).limit(100))


def portfolio(user, client_id: int) -> tuple[PortfolioClient, dict, int]:
    """The client portfolio's data for a client-role user acting for ``client_id``
    (their own record or a mandate covering the services): the client with the
    responsible worker, their services as ``client_services`` groups them and the
    number of unread messages, in two statements (the client, the unread count and
    the orders in one; the latest visits). NotFoundError if the user may not see the
    client's services or the client is erased. Writes no access-log row: the caller
    logs the read."""
    lang, today = current_language(), local_today()
    stmt = _portfolio_statements.get((lang, today))
    if stmt is None:
        if any(day != today for _lang, day in _portfolio_statements):
            _portfolio_statements.clear()  # yesterday's mandates' validity
        stmt = _portfolio_statements[(lang, today)] = _build_portfolio_statement(lang, today)
    found = _core_rows(stmt, {"client_id": client_id, **_user_ids(user)})
    if not found:
        raise NotFoundError(_("Client not found."))
    first = found[0]
    worker = Worker(first.worker_name, first.worker_phone) if first.worker_id is not None else None
    client = PortfolioClient(first.client_id, first.first_name, first.last_name, worker)
    return client, _grouped([row for row in found if row.id is not None]), first.unread


# -- the network -----------------------------------------------------------------

@dataclass
class NetworkEntry:
    kind: str  # worker | provider | member | relative
    name: str
    organisation: str = ""
    role: str = ""
    responsibility: str = ""
    phone: str | None = None
    email: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    member_id: int | None = None
    representative_id: int | None = None
    order_id: int | None = None
    service: str = ""

    @property
    def ended(self) -> bool:
        return self.ends_on is not None and self.ends_on < local_today()

    @property
    def upcoming(self) -> bool:
        return self.starts_on is not None and self.starts_on > local_today()

    @property
    def active(self) -> bool:
        return not self.ended and not self.upcoming


def network(client: Client, include_ended: bool = True) -> list[NetworkEntry]:
    """Everyone working with the client as one list: the responsible worker, the
    providers of active orders, the professionals and close people recorded by
    staff, and the relatives acting for the client. Four queries (the worker's
    row, unless loaded with the client)."""
    orders = db.session.execute(_orders_query(client.id).where(_serving())
                                .order_by(ServiceOrder.start_date, ServiceOrder.id)).all()
    reps = db.session.scalars(
        sa.select(ClientRepresentative).where(ClientRepresentative.client_id == client.id,
                                              ClientRepresentative.ended_at.is_(None))
        .options(joinedload(ClientRepresentative.user)).order_by(ClientRepresentative.id)).all()
    return _network(client, [_order_row(row) for row in orders], reps, include_ended)


def _network(client: Client, serving: list[OrderRow], reps: list, include_ended: bool = True,
             members: list | None = None) -> list[NetworkEntry]:
    """The network from rows already read: the active orders with a provider (by
    start date) and the relatives' mandates in force (with their users); the
    network members (rows of their columns) too when given, read here otherwise.
    Its labels in the reader's language through ``text_of`` (``str()`` of a lazy
    text resolves Flask-Babel's locale and catalogue again, some fifteen calls each)."""
    entries: list[NetworkEntry] = []
    if client.responsible_worker is not None:
        worker = client.responsible_worker
        entries.append(NetworkEntry(kind="worker", name=worker.name or worker.email,
                                    organisation=text_of(_l("Guidance office")), role=text_of(_l("Responsible worker")),
                                    phone=worker.phone, email=worker.email))
    if serving:
        provider_role = text_of(_l("Service provider"))
        for order in serving:
            entries.append(NetworkEntry(
                kind="provider", name=order.provider_name, organisation=order.provider_name, role=provider_role,
                responsibility=order.service, phone=order.provider_phone, email=order.provider_email,
                starts_on=order.start_date, ends_on=order.end_date, order_id=order.id, service=order.service))
    if members is None:
        if "members" not in _statements:
            _statements.update(_staff_page_statements())
        members = _core_rows(_statements["members"], {"client_id": client.id})
    member_users = set()
    for m in members:
        if m.user_id:
            member_users.add(m.user_id)
        entries.append(NetworkEntry(kind="member", name=m.name, organisation=m.organisation,
                                    role=network_role(m), responsibility=network_responsibility(m),
                                    phone=m.phone, email=m.email,
                                    starts_on=m.starts_on, ends_on=m.ends_on, member_id=m.id))
    acts_for = None
    for rep in reps:
        user = rep.user
        if user.id in member_users or rep.ended_at is not None:
            continue
        acts_for = acts_for or text_of(_l("Acts for the client in Kotiapu"))
        entries.append(NetworkEntry(kind="relative", name=user.name or user.email, role=rep.relationship_,
                                    responsibility=acts_for, phone=user.phone,
                                    email=user.email, starts_on=rep.valid_from or local_date(rep.consent_recorded_at),
                                    ends_on=rep.valid_until, representative_id=rep.id))
    if not include_ended:
        entries = [e for e in entries if not e.ended]
    order = {"worker": 0, "provider": 1, "member": 2, "relative": 3}
    entries.sort(key=lambda e: (e.ended, order[e.kind]))
    return entries


def mandates_of_client(client_id: int, user_id: int | None = None) -> list[ClientRepresentative]:
    """The relatives' mandates for the client (only ``user_id``'s when given), those
    in force first; with the relative and who ended the mandate loaded."""
    stmt = (sa.select(ClientRepresentative).where(ClientRepresentative.client_id == client_id)
            .options(joinedload(ClientRepresentative.user), joinedload(ClientRepresentative.ended_by))
            .order_by(ClientRepresentative.ended_at.is_not(None), ClientRepresentative.id))
    if user_id is not None:
        stmt = stmt.where(ClientRepresentative.user_id == user_id)
    return list(db.session.scalars(stmt))


# -- the staff page of a client ------------------------------------------------

@dataclass(slots=True)
class OrderRow:
    """An order as the client's record lists it (a row, not an ORM object)."""

    id: int
    number: str
    status: str
    start_date: date
    end_date: date | None
    service: str               # the service type's name in the reader's language
    provider_name: str | None
    provider_phone: str | None
    provider_email: str | None


ORDER_ROWS = 100  # the latest orders on the client's record

def _serving():
    """An order whose provider is serving the client now (the network lists it).
    A function: an expression built at import would configure the mappers then,
    before the forking worker means to (core.worker.prepare_to_fork)."""
    return sa.and_(ServiceOrder.provider_id.is_not(None), ServiceOrder.status.in_(ACTIVE_ORDER_STATES))


def _orders_query(client_id: int):
    return (sa.select(ServiceOrder.id, ServiceOrder.number, ServiceOrder.status, ServiceOrder.start_date,
                      ServiceOrder.end_date, ServiceOrder.provider_id, ServiceType.name_fi, ServiceType.name_sv,
                      ServiceType.name_en, Provider.name, Provider.phone, Provider.email)
            .join(ServiceType, ServiceType.id == ServiceOrder.service_type_id)
            .outerjoin(Provider, Provider.id == ServiceOrder.provider_id)
            .where(ServiceOrder.client_id == client_id))


def _order_row(row, lang: str | None = None) -> OrderRow:
    lang = lang or current_language()
    name = {"sv": row.name_sv, "en": row.name_en}.get(lang) or row.name_fi
    return OrderRow(row.id, row.number, row.status, row.start_date, row.end_date, name,
                    row.name if row.provider_id is not None else None, row.phone, row.email)


@dataclass(slots=True)
class Named:
    """A person or organisation a row of the staff page names (``name``; a person's
    ``email`` where the page falls back to it)."""

    name: str | None
    email: str | None = None


@dataclass(slots=True)
class PersonRow:
    """A user a row of the staff page names, with what the page shows of them."""

    id: int
    name: str | None
    email: str
    role: str = ""
    phone: str | None = None
    provider: Named | None = None


@dataclass(slots=True)
class ConcernRow:
    """The concern behind a follow-up, as ``follow_up_item`` shows it."""

    id: int
    urgency: str
    description: str
    created_at: datetime
    acknowledged_at: datetime | None
    reported_by: Named | None
    provider: Named | None
    acknowledged_by: Named | None


@dataclass(slots=True)
class FollowUpRow:
    """An open follow-up as the staff page shows it (``follow_up_item`` and the
    title and priority texts read these attributes of a ``FollowUp``)."""

    id: int
    client_id: int
    order_id: int | None
    title: str
    code: str | None
    params: dict | None
    due_at: datetime | None
    priority: int
    priority_code: str | None
    priority_params: dict | None
    concern_id: int | None
    assigned_to: Named | None
    concern: ConcernRow | None


@dataclass(slots=True)
class RepresentativeRow:
    """A relative's mandate as the staff page shows it: the attributes of a
    ``ClientRepresentative`` the page reads, with its ``scopes`` and ``state_on``."""

    id: int
    user: PersonRow
    relationship_: str
    consent_recorded_at: datetime
    consent_recorded_by: Named | None
    ended_at: datetime | None
    ended_by: Named | None
    may_see_services: bool
    may_send_messages: bool
    may_buy: bool
    may_give_feedback: bool
    valid_from: date | None
    valid_until: date | None

    SCOPE_COLUMNS = ClientRepresentative.SCOPE_COLUMNS
    scopes = ClientRepresentative.scopes
    is_valid_on = ClientRepresentative.is_valid_on
    state_on = ClientRepresentative.state_on


@dataclass(slots=True)
class MessageRow:
    """A message as ``message_list`` and ``sender_label`` show it."""

    body: str
    created_at: datetime
    sender: PersonRow | None
    to_user: PersonRow | None
    to_provider: Named | None


def _named(name, present) -> Named | None:
    return Named(name) if present is not None else None


def follow_up_rows_select():
    """Open follow-ups as rows for ``follow_up_row``: each with the name of whom it is
    assigned to and its concern with the concern's reporter, provider and
    acknowledger, most urgent first. The caller adds whose (the client page: the
    client's; the staff dashboard: the staff member's, with a limit)."""
    follow_ups, concerns, users, providers = FollowUp.__table__, Concern.__table__, User.__table__, Provider.__table__
    assigned, reporter, acknowledger = users.alias("assigned"), users.alias("reporter"), users.alias("acknowledger")
    concern_provider = providers.alias("concern_provider")
    fu, c = follow_ups.c, concerns.c
    return (sa.select(
        fu.id, fu.client_id, fu.order_id, fu.title, fu.code, fu.params, fu.due_at, fu.priority, fu.priority_code,
        fu.priority_params, fu.concern_id, fu.assigned_to_id, assigned.c.name, c.urgency, c.description,
        c.created_at, c.acknowledged_at, c.reported_by_id, reporter.c.name, c.provider_id, concern_provider.c.name,
        c.acknowledged_by_id, acknowledger.c.name)
        .select_from(follow_ups.outerjoin(assigned, assigned.c.id == fu.assigned_to_id)
                     .outerjoin(concerns, c.id == fu.concern_id)
                     .outerjoin(reporter, reporter.c.id == c.reported_by_id)
                     .outerjoin(concern_provider, concern_provider.c.id == c.provider_id)
                     .outerjoin(acknowledger, acknowledger.c.id == c.acknowledged_by_id))
        .order_by(fu.priority.desc(), fu.due_at.asc().nulls_last(), fu.id))


def follow_up_row(r) -> FollowUpRow:
    (id_, client_id, order_id, title, code, params, due_at, priority, priority_code, priority_params, concern_id,
     assigned_to_id, assigned_name, c_urgency, c_description, c_created_at, c_acknowledged_at, reporter_id,
     reporter_name, c_provider_id, c_provider_name, ack_id, ack_name) = r
    concern = None if concern_id is None else ConcernRow(
        concern_id, c_urgency, c_description, c_created_at, c_acknowledged_at, _named(reporter_name, reporter_id),
        _named(c_provider_name, c_provider_id), _named(ack_name, ack_id))
    return FollowUpRow(id_, client_id, order_id, title, code, params, due_at, priority, priority_code, priority_params,
                       concern_id, _named(assigned_name, assigned_to_id), concern)


def _representative_row(r) -> RepresentativeRow:
    (id_, user_id, user_name, user_email, user_phone, relationship_, consent_at, recorder_id, recorder_name,
     ended_at, ender_id, ender_name, ender_email, services, messages, buy, feedback, valid_from, valid_until) = r
    return RepresentativeRow(id_, PersonRow(user_id, user_name, user_email, phone=user_phone), relationship_,
                             consent_at, _named(recorder_name, recorder_id), ended_at,
                             Named(ender_name, ender_email) if ender_id is not None else None,
                             services, messages, buy, feedback, valid_from, valid_until)


def _message_row(r) -> MessageRow:
    (body, created_at, sender_id, sender_name, sender_email, sender_role, sender_org_id, sender_org,
     to_user_id, to_name, to_email, to_role, to_provider_id, to_provider_name) = r
    sender = None if sender_id is None else PersonRow(sender_id, sender_name, sender_email, sender_role,
                                                      provider=_named(sender_org, sender_org_id))
    to_user = None if to_user_id is None else PersonRow(to_user_id, to_name, to_email, to_role)
    return MessageRow(body, created_at, sender, to_user, _named(to_provider_name, to_provider_id))


def _sql_word(value: str):
    """A code (a status, a role: lowercase letters and underscores) written into a
    statement as a string literal."""
    if not re.fullmatch(r"[a-z_]+", value):
        raise ValueError(f"not a code: {value!r}")
    return sa.literal_column(f"'{value}'", sa.String)


def _sql_number(value: int):
    """A whole number (a list's limit) written into a statement."""
    return sa.literal_column(str(int(value)), sa.Integer)


class ContactRow(NamedTuple):
    """A guidance contact as the staff page lists it."""

    at: datetime
    channel: str
    topic: str
    outcome: str
    referral: str | None
    staff_name: str | None


class EventRow(NamedTuple):
    """A change in the record's history as the staff page lists it."""

    at: datetime
    action: str
    note: str | None
    code: str | None
    params: dict | None
    actor_id: int | None
    actor_name: str | None
    actor_email: str | None


class MemberRow(NamedTuple):
    """A network member as ``_network`` reads it (the columns of the ``members`` statement)."""

    id: int
    name: str
    organisation: str | None
    role: str
    responsibility: str | None
    phone: str | None
    email: str | None
    user_id: int | None
    starts_on: date | None
    ends_on: date | None
    code: str | None
    params: dict | None


class UserRow(NamedTuple):
    """A user the staff page names: one of the client's logins or a guidance worker."""

    id: int
    name: str | None
    email: str
    role: str
    active: bool
    client_id: int | None
    last_login_at: datetime | None


CONTACT_ROWS, EVENT_ROWS, MESSAGE_ROWS = 10, 50, 30  # the latest shown

# The parts of the staff page's UNION ALL (``_lists_statement``), in its order.
FOLLOW_UPS, REPRESENTATIVES, MESSAGES, CONTACTS, EVENTS, MEMBERS, USERS = range(7)

# The slots a part's columns go into, by the kind of value (``_slot_kind``): a part
# takes the first free slots of each kind, the others are NULL.
_SLOT_TYPES = {"int": sa.Integer(), "str": sa.String(), "time": UTCDateTime(), "day": sa.Date(), "json": sa.JSON(),
               "bool": sa.Boolean()}


def _slot_kind(type_) -> str:
    """The kind of slot a column of ``type_`` goes into."""
    if isinstance(type_, UTCDateTime | sa.DateTime):
        return "time"
    for kind in ("bool", "int", "day", "json", "str"):  # (Boolean is no Integer; Text is a String)
        if isinstance(type_, type(_SLOT_TYPES[kind])):
            return kind
    raise TypeError(f"no slot for {type_!r}")


def _lists_statement(parts: list) -> tuple[sa.CompoundSelect, list[itemgetter]]:
    """Lists of one page as one ``UNION ALL`` of rows (a round trip and SQLAlchemy's
    work per statement instead of one per list), and for each part the getter that
    takes its row back out of the union's row, its columns in their order.

    ``parts``: (a statement with its own joins, conditions, order and limit, the
    same order for numbering its rows). Each part numbers its rows (``position``)
    and the union is ordered by part and position. The columns go into slots
    shared by the parts, a slot per kind of value (integers, texts, times, dates,
    JSON, booleans): the statement's column types are its first part's, so each
    slot the first part leaves empty is a NULL cast to the slot's type, and the
    values of each slot are read as that type on SQLite as on PostgreSQL."""
    layouts = []
    for stmt, _order in parts:
        used = dict.fromkeys(_SLOT_TYPES, 0)
        layout = []
        for column in stmt.selected_columns:
            kind = _slot_kind(column.type)
            layout.append((kind, used[kind]))
            used[kind] += 1
        layouts.append(layout)
    sizes = {kind: max((sum(1 for k, _i in layout if k == kind) for layout in layouts), default=0)
             for kind in _SLOT_TYPES}
    offsets, at = {}, 2  # after the part's number and the row's position
    for kind, size in sizes.items():
        offsets[kind] = at
        at += size
    selects, getters = [], []
    for number, ((stmt, order), layout) in enumerate(zip(parts, layouts)):
        sub = stmt.add_columns(sa.func.row_number().over(order_by=order).label("position")).subquery()
        *columns, position = sub.c
        slots = [None] * (at - 2)
        for column, (kind, index) in zip(columns, layout):
            slots[offsets[kind] - 2 + index] = column
        for kind, size in sizes.items():
            for index in range(size):
                if slots[offsets[kind] - 2 + index] is None:
                    slots[offsets[kind] - 2 + index] = sa.cast(sa.null(), _SLOT_TYPES[kind])
        selects.append(sa.select(_sql_number(number).label("part"), position.label("position"),
                                 *(slot.label(f"slot{i}") for i, slot in enumerate(slots))))
        getters.append(itemgetter(*(offsets[kind] + index for kind, index in layout)))
    return sa.union_all(*selects).order_by(sa.literal_column("part"), sa.literal_column("position")), getters


def _staff_page_lists(cid) -> tuple[sa.CompoundSelect, list[itemgetter]]:
    """The staff page's lists for the bound ``cid`` as one ``UNION ALL``
    (``_lists_statement``), parts numbered as ``FOLLOW_UPS`` … ``USERS``: the open
    follow-ups (most urgent first), the relatives' mandates (those in force first),
    the latest messages, the latest guidance contacts, the record's latest history,
    the network members, and the client's own logins. Every person or organisation
    a row names comes with it. (The guidance workers to hand the client over to are
    ``handover_workers``, kept for a few seconds.)"""
    users, providers = User.__table__, Provider.__table__
    fu = FollowUp.__table__.c
    reps, messages = ClientRepresentative.__table__, Message.__table__
    rep, m = reps.c, messages.c
    relative, recorder, ender = users.alias("relative"), users.alias("recorder"), users.alias("ender")
    sender, recipient = users.alias("sender"), users.alias("recipient")
    sender_org, to_provider = providers.alias("sender_org"), providers.alias("to_provider")
    contacts, events, members = GuidanceContact.__table__, ClientEvent.__table__, NetworkMember.__table__
    staff, actor = users.alias("staff"), users.alias("actor")
    g, e, n, u = contacts.c, events.c, members.c, users.c
    follow_up_order = (fu.priority.desc(), fu.due_at.asc().nulls_last(), fu.id)
    rep_order = (rep.ended_at.is_not(None), rep.id)
    message_order = (m.created_at.desc(), m.id.desc())
    contact_order, event_order, member_order, user_order = (g.at.desc(),), (e.at.desc(), e.id.desc()), (n.id,), \
        (u.name, u.id)
    parts = [None] * 7
    parts[FOLLOW_UPS] = (follow_up_rows_select().where(fu.client_id == cid, fu.done_at.is_(None)), follow_up_order)
    parts[REPRESENTATIVES] = (sa.select(
        rep.id, rep.user_id, relative.c.name, relative.c.email, relative.c.phone, rep.relationship,
        rep.consent_recorded_at, rep.consent_recorded_by_id, recorder.c.name, rep.ended_at, rep.ended_by_id,
        ender.c.name, ender.c.email, rep.may_see_services, rep.may_send_messages, rep.may_buy,
        rep.may_give_feedback, rep.valid_from, rep.valid_until)
        .select_from(reps.join(relative, relative.c.id == rep.user_id)
                     .outerjoin(recorder, recorder.c.id == rep.consent_recorded_by_id)
                     .outerjoin(ender, ender.c.id == rep.ended_by_id))
        .where(rep.client_id == cid).order_by(*rep_order), rep_order)
    parts[MESSAGES] = (sa.select(
        m.body, m.created_at, m.sender_id, sender.c.name, sender.c.email, sender.c.role, sender_org.c.id,
        sender_org.c.name, m.to_user_id, recipient.c.name, recipient.c.email, recipient.c.role,
        m.to_provider_id, to_provider.c.name)
        .select_from(messages.outerjoin(sender, sender.c.id == m.sender_id)
                     .outerjoin(sender_org, sender_org.c.id == sender.c.provider_id)
                     .outerjoin(recipient, recipient.c.id == m.to_user_id)
                     .outerjoin(to_provider, to_provider.c.id == m.to_provider_id))
        .where(m.client_id == cid).order_by(*message_order).limit(_sql_number(MESSAGE_ROWS)), message_order)
    parts[CONTACTS] = (sa.select(g.at, g.channel, g.topic, g.outcome, g.referral, staff.c.name)
                       .select_from(contacts.outerjoin(staff, staff.c.id == g.staff_id))
                       .where(g.client_id == cid).order_by(*contact_order).limit(_sql_number(CONTACT_ROWS)),
                       contact_order)
    parts[EVENTS] = (sa.select(e.at, e.action, e.note, e.code, e.params, e.actor_id, actor.c.name, actor.c.email)
                     .select_from(events.outerjoin(actor, actor.c.id == e.actor_id))
                     .where(e.client_id == cid).order_by(*event_order).limit(_sql_number(EVENT_ROWS)), event_order)
    parts[MEMBERS] = (sa.select(n.id, n.name, n.organisation, n.role, n.responsibility, n.phone, n.email, n.user_id,
                                n.starts_on, n.ends_on, n.code, n.params)
                      .where(n.client_id == cid).order_by(*member_order), member_order)
    parts[USERS] = (sa.select(u.id, u.name, u.email, u.role, u.active, u.client_id, u.last_login_at)
                    .where(u.client_id == cid).order_by(*user_order), user_order)
    return _lists_statement(parts)


def _staff_page_statements() -> dict:
    """The staff page's statements for a bound ``client_id``: built once (building
    them is a fair share of the page's time). Plain table columns, read as rows: no
    ORM objects (an ORM read with its joined people cost three to four times the
    Python of a row statement, most of it for the columns it did not need)."""
    cid = sa.bindparam("client_id", type_=sa.Integer)
    orders, types, providers = ServiceOrder.__table__, ServiceType.__table__, Provider.__table__
    o, t, p = orders.c, types.c, providers.c
    # Constants written into the statement, not bound: a bound list is expanded into
    # the SQL text on every run, and PostgreSQL plans a prepared statement afresh
    # while it binds a value whose selectivity the plan depends on (clients.signals).
    serving = sa.and_(o.provider_id.is_not(None), o.status.in_([_sql_word(s) for s in ACTIVE_ORDER_STATES]))
    latest = (sa.select(o.id).where(o.client_id == cid)
              .order_by(o.created_at.desc(), o.id.desc()).limit(_sql_number(ORDER_ROWS)))
    members = NetworkMember.__table__.c
    return {
        # The latest ORDER_ROWS orders by creation come first, then any older order still served.
        "orders": sa.select(o.id, o.number, o.status, o.start_date, o.end_date, o.provider_id, t.name_fi, t.name_sv,
                            t.name_en, p.name, p.phone, p.email, serving.label("serving"))
        .select_from(orders.join(types, t.id == o.service_type_id).outerjoin(providers, p.id == o.provider_id))
        .where(o.client_id == cid, sa.or_(o.id.in_(latest), serving))
        .order_by(o.created_at.desc(), o.id.desc()),
        "members": sa.select(members.id, members.name, members.organisation, members.role, members.responsibility,
                             members.phone, members.email, members.user_id, members.starts_on, members.ends_on,
                             members.code, members.params)
        .where(members.client_id == cid).order_by(members.id),
    }


_statements: dict = {}  # _staff_page_statements() and the client row's statement, once built

# The active guidance workers a client can be handed over to, kept 5 s per web
# process (core.kept: a write to ``users`` through this process drops them at once,
# the other processes show it within 5 s), as the staff order list keeps its filter
# choices: the same for every reader and every client, and 50 rows that the staff
# client page read with every view.
_workers_kept = Kept("handover-workers", {"users"})


def handover_workers() -> tuple[tuple[int, str], ...]:
    """The active guidance workers as (id, name, or the e-mail address for a worker
    without a name), by name, as ``records.staff_choices`` gives them: kept for a few
    seconds."""
    def read():
        if "workers" not in _statements:
            u = User.__table__.c
            _statements["workers"] = (sa.select(u.id, u.name, u.email)
                                      .where(u.role == _sql_word(Role.STAFF), u.active.is_(True))
                                      .order_by(u.name, u.id))
        return tuple((uid, name or email) for uid, name, email in _core_rows(_statements["workers"], {}))
    return _workers_kept.value("workers", read)


def staff_client_page(client: Client) -> dict:
    """What the staff client page shows besides the record: orders, open
    follow-ups, network, relatives, logins, messages, guidance contacts and the
    record history, and the workers to hand the client over to (``staff``: id and
    name). A constant number of queries (two), whatever the rows: the orders
    listed and those the network names come in one query, the open follow-ups,
    the relatives' mandates, the messages, the guidance contacts, the history,
    the network members and the users the page names as one ``UNION ALL``
    (``_staff_page_lists``), the network's relatives are the mandates listed, and
    every person or organisation a row names is read with it. Everything comes as
    rows (``OrderRow``, ``FollowUpRow``, ``RepresentativeRow``, ``MessageRow``,
    ``ContactRow``, ``EventRow``, ``MemberRow``, ``UserRow``), not ORM objects. The
    client's responsible worker and who recorded the consent come with the client
    (``staff_page_client``)."""
    if "lists" not in _statements:
        _statements.update(_staff_page_statements(), lists=_staff_page_lists(sa.bindparam("client_id", type_=sa.Integer)))
    params = {"client_id": client.id}
    lang = current_language()
    execute = db.session.connection().execute  # the Core path: see _core_rows
    rows = execute(_statements["orders"], params).all()
    orders = [_order_row(row, lang) for row in rows]
    serving = sorted((o for o, row in zip(orders, rows) if row.serving), key=lambda o: (o.start_date, o.id))
    lists: list[list] = [[] for _part in range(7)]
    statement, getters = _statements["lists"]
    for row in execute(statement, params).all():
        lists[row[0]].append(getters[row[0]](row))
    follow_ups = [follow_up_row(r) for r in lists[FOLLOW_UPS]]
    representatives = [_representative_row(r) for r in lists[REPRESENTATIVES]]
    messages = [_message_row(r) for r in lists[MESSAGES]]
    contacts, events = [ContactRow._make(r) for r in lists[CONTACTS]], [EventRow._make(r) for r in lists[EVENTS]]
    members, users = [MemberRow._make(r) for r in lists[MEMBERS]], [UserRow._make(r) for r in lists[USERS]]
    logins = sorted(users, key=lambda u: u.id)
    staff = handover_workers()
    return {"orders": orders[:ORDER_ROWS], "follow_ups": follow_ups,
            "network": _network(client, serving, representatives, members=members),
            "representatives": representatives, "logins": logins, "staff": staff,
            "messages": list(reversed(messages)), "contacts": contacts, "events": events}


@dataclass(slots=True)
class StaffPageClient:
    """The client of the staff page as a row: the record's columns the page shows,
    its responsible worker (``PersonRow``) and who recorded the consent (``Named``),
    and whether a message of the thread waits unread for the reader
    (``unread_to_reader``). The attributes are those of a ``Client`` the page and
    ``clients.policy`` read."""

    id: int
    first_name: str
    last_name: str
    birth_date: date | None
    personal_identity_code: str | None
    address: str
    postal_code: str
    municipality: str
    phone: str | None
    email: str | None
    languages: list
    consent_to_share: bool
    consent_recorded_at: datetime | None
    segment: str
    non_disclosure: bool
    responsible_worker_id: int | None
    created_at: datetime
    last_activity_at: datetime
    last_check_at: datetime | None
    retention_flagged_at: datetime | None
    erasure_requested_at: datetime | None
    erased_at: datetime | None
    responsible_worker: PersonRow | None
    consent_recorded_by: Named | None
    unread_to_reader: bool

    full_name = Client.full_name
    masked_identity_code = Client.masked_identity_code


def _staff_page_client_statement() -> sa.Select:
    """The client row of the staff page for a bound ``client_id``, with the people
    its record names and whether a message to the bound ``reader_id`` waits unread
    (the condition of ``mark_messages_read`` for a staff member): built once. Every
    column but ``notes`` and ``updated_at``, which the page does not show."""
    clients, users, messages = Client.__table__, User.__table__, Message.__table__
    c, m = clients.c, messages.c
    worker, recorder = users.alias("worker"), users.alias("recorder")
    cid = sa.bindparam("client_id", type_=sa.Integer)
    unread = sa.exists().where(m.client_id == cid, m.read_at.is_(None),
                               m.to_user_id == sa.bindparam("reader_id", type_=sa.Integer))
    return (sa.select(c.id, c.first_name, c.last_name, c.birth_date, c.personal_identity_code, c.address,
                      c.postal_code, c.municipality, c.phone, c.email, c.languages, c.consent_to_share,
                      c.consent_recorded_at, c.segment, c.non_disclosure, c.responsible_worker_id, c.created_at,
                      c.last_activity_at, c.last_check_at, c.retention_flagged_at, c.erasure_requested_at,
                      c.erased_at, worker.c.name, worker.c.email, worker.c.phone, c.consent_recorded_by_id,
                      recorder.c.name, unread.label("unread"))
            .select_from(clients.outerjoin(worker, worker.c.id == c.responsible_worker_id)
                         .outerjoin(recorder, recorder.c.id == c.consent_recorded_by_id))
            .where(c.id == cid))


def staff_page_client(client_id: int, reader_id: int) -> StaffPageClient | None:
    """The client of the staff page (``StaffPageClient``) for the staff member
    ``reader_id``, in one statement; None if there is no such client. Writes no
    access-log row: the caller (``records.get_client``) logs the read."""
    stmt = _statements.get("client")
    if stmt is None:
        stmt = _statements["client"] = _staff_page_client_statement()
    row = _core_rows(stmt, {"client_id": client_id, "reader_id": reader_id})
    row = row[0] if row else None
    if row is None:
        return None
    *columns, worker_name, worker_email, worker_phone, recorder_id, recorder_name, unread = row
    worker_id = columns[15]
    worker = None if worker_id is None else PersonRow(worker_id, worker_name, worker_email, phone=worker_phone)
    return StaffPageClient(*columns, worker, _named(recorder_name, recorder_id), bool(unread))


def latest_event(client_id: int, action: str) -> ClientEvent | None:
    return db.session.scalar(sa.select(ClientEvent).where(ClientEvent.client_id == client_id,
                                                          ClientEvent.action == action)
                             .order_by(ClientEvent.at.desc(), ClientEvent.id.desc()).limit(1))


# -- messages ------------------------------------------------------------------

def client_messages(client_id: int, limit: int = 100) -> list[Message]:
    """The client's thread, oldest first (the latest ``limit``)."""
    rows = db.session.scalars(
        sa.select(Message).where(Message.client_id == client_id)
        .options(joinedload(Message.sender), joinedload(Message.to_user), joinedload(Message.to_provider))
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def worker_recipient_label(user, client, worker) -> str:
    """The responsible worker as a choice of recipient on the client side: "my"
    for the client, "the" for a relative acting for them."""
    name = worker.name or worker.email
    if policy.is_own_record(user, client.id):
        return _("My responsible worker, %(name)s", name=name)
    return _("The responsible worker, %(name)s", name=name)


def order_thread(user, order) -> dict | None:
    """The messages kept with one order as the viewer may see them, for the order
    page: the client side and staff see the whole thread, the winning provider the
    messages between it and the client. None when the viewer sees no thread. The
    messages addressed to the viewer are stamped read (with the order page's unit of work)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    client = order.client
    if client is None or client.erased_at is not None:
        return None
    stmt = sa.select(Message).where(Message.order_id == order.id)
    recipients: list[tuple[str, str]] = []
    if user.role == Role.CLIENT:
        if not policy.acts_for(user, order.client_id, MandateScope.MESSAGES):
            return None  # a relative whose mandate has no messages sees no thread
        if order.provider_id is not None and order.status in ACTIVE_ORDER_STATES + ("completed",):
            recipients.append(("provider", order.provider.name))
        if client.responsible_worker_id is not None:
            worker = client.responsible_worker
            recipients.append(("worker", worker_recipient_label(user, client, worker)))
    elif user.role == Role.STAFF:
        recipients.append(("client", client.full_name))
    elif user.role == Role.PROVIDER:
        if order.provider_id != user.provider_id:
            return None
        provider_members = sa.select(User.id).where(User.provider_id == user.provider_id)
        stmt = stmt.where(sa.or_(Message.to_provider_id == user.provider_id, Message.sender_id.in_(provider_members)))
        if order.status in ACTIVE_ORDER_STATES + ("completed",):
            recipients.append(("client", str(_l("The client"))))
    else:
        return None
    messages = db.session.scalars(stmt.options(joinedload(Message.sender), joinedload(Message.to_provider))
                                  .order_by(Message.created_at, Message.id)).all()
    mark_messages_read(user, order.client_id, order_id=order.id)
    return {"messages": messages, "recipients": recipients, "order": order}


def order_thread_for_viewer(order) -> dict | None:
    """``order_thread`` for the logged-in user (the order page's template global)."""
    return order_thread(current_user, order)


def sender_label(message: Message) -> str:
    sender = message.sender
    if sender is None:
        return str(_l("Kotiapu"))
    if sender.role == Role.PROVIDER and sender.provider is not None:
        return f"{sender.name or sender.email}, {sender.provider.name}"
    return sender.name or sender.email


# -- the access log ------------------------------------------------------------

ACTION_WORDS = {
    "view": _l("looked at"), "list": _l("saw your name in a list"), "change": _l("changed"), "update": _l("changed"),
    "create": _l("registered"), "order": _l("placed a service order using"), "export": _l("downloaded"),
    "erase": _l("erased"), "feedback": _l("recorded feedback in"), "voucher": _l("recorded"), "webhook": _l("sent"),
}
# The same actions when the reader did them: a whole second-person verb, so
# that Finnish reads "Katsoit" and not "Sinä katsoi".
SELF_ACTION_WORDS = {
    "view": _l("You looked at"), "list": _l("You saw your name in a list"), "change": _l("You changed"),
    "update": _l("You changed"), "create": _l("You registered"), "order": _l("You placed a service order using"),
    "export": _l("You downloaded"), "erase": _l("You erased"), "feedback": _l("You recorded feedback in"),
    "voucher": _l("You recorded"), "webhook": _l("You sent"),
}
PURPOSE_WORDS = {
    Purpose.GUIDANCE: _l("to guide and advise you"),
    Purpose.ORDERING: _l("to arrange or follow your services"),
    Purpose.SERVICE: _l("to provide a service you have"),
    Purpose.OWN_DATA: _l("you looked at your own data"),
    Purpose.EXPORT: _l("you asked for a copy of your data"),
    Purpose.ERASURE: _l("to handle your request to erase your data"),
    Purpose.FEEDBACK: _l("to record your feedback"),
    Purpose.LOGINS: _l("to manage your login"),
    "a relative acting for the client": _l("a relative acting for you"),
}
WHAT_WORDS = {
    "client record": _l("your client record"), "client details": _l("your details"),
    "name in search results": _l("your name in search results"), "name in order list": _l("your name in a list of orders"),
    "name in provider inbox": _l("your name in the provider's list of orders"),
    "name in guidance contacts": _l("your name in the log of guidance contacts"),
    "name in access-log search": _l("your name in the access log"),
    "service order": _l("a service order"), "client record for ordering": _l("your record, to place an order"),
    "consent to share with providers": _l("your consent to share data with providers"),
    "responsible worker": _l("your responsible worker"), "network": _l("the people working with you"),
    "relatives acting for the client": _l("the relatives acting for you"), "client login": _l("your login"),
    "guidance contact": _l("a note of advice given to you"), "follow-up": _l("a follow-up task about you"),
    "retention decision": _l("the decision to keep your record"), "erasure request": _l("a request to erase your data"),
    "erasure decision": _l("the answer to your erasure request"), "message": _l("a message"),
    "my services": _l("your services"), "my network": _l("the people who help you"),
    "access log": _l("the list of who has seen your data"), "messages": _l("your messages"),
    "all data held on the client": _l("all your data"), "my data": _l("your data page"),
    "client record and services": _l("your record and services"),
    "client record, orders, network and messages": _l("your record, services, network and messages"),
    "name for a guidance contact": _l("your name, to note advice given to you"),
    "name in the list of whose services": _l("your name in the list of people they act for"),
    "contact details": _l("your contact details"), "consent": _l("your consent"),
    "contact details for a purchase": _l("your contact details, for a purchase"), "orders list": _l("a list of orders"),
    "feedback given by phone": _l("feedback you gave by phone"), "feedback": _l("your feedback"),
    "concern text": _l("a worry a provider reported about your wellbeing"),
    "name on the dashboard": _l("your name on their front page"),
    "buyer's name in the purchase list": _l("your name in the provider's list of purchases"),
    "client record for a service voucher": _l("your record, for a service voucher"),
    "help request": _l("your request for help"),
    "service voucher granted": _l("a service voucher granted to you"),
    "service vouchers": _l("your service vouchers"),
    "voucher events to review": _l("the services paid with your voucher, to be checked"),
    "voucher-funded orders": _l("your services paid with a service voucher"),
    "vouchers list": _l("your name in a list of service vouchers"),
}
# "what" texts that start with a fixed part and end with an order or purchase number.
WHAT_PREFIXES = (
    ("order ", _l("order %(number)s")), ("purchase ", _l("purchase %(number)s")),
    ("feedback on order ", _l("feedback on order %(number)s")),
    ("name, for feedback on order ", _l("your name, for feedback on order %(number)s")),
    ("service voucher ", _l("your service voucher %(number)s")),
)
# "what" texts with a number inside: the pattern's "number" group fills the text.
WHAT_PATTERNS = (
    (re.compile(r"purchase (?P<number>\S+): contact details"), _l("your contact details for purchase %(number)s")),
    (re.compile(r"purchase (?P<number>\S+): name and address"), _l("your name and address for purchase %(number)s")),
    (re.compile(r"\S+ event \S+ to the provider's system"), _l("details of your order, sent to the provider's system")),
)


# Actions whose words say what was done with the data as a whole sentence, so the
# row does not name it twice ("placed a service order using: a service order"):
# (read by the client, read by a relative acting for them).
ACTION_SENTENCES = {
    "order": (_l("placed a service order for you"), _l("placed a service order for the client")),
    "voucher": (_l("granted you a service voucher"), _l("granted the client a service voucher")),
    "webhook": (_l("sent the details of your order to the provider's system"),
                _l("sent the details of the client's order to the provider's system")),
}
# Why, as a relative acting for the client reads it: about the client, in the third
# person (the client's own page says "you"). The relative's own rows say "you acted".
OTHER_PURPOSE_WORDS = {
    Purpose.GUIDANCE: _l("to guide and advise the client"),
    Purpose.ORDERING: _l("to arrange or follow the client's services"),
    Purpose.SERVICE: _l("to provide a service the client has"),
    Purpose.OWN_DATA: _l("the client viewing their own data"),
    Purpose.EXPORT: _l("the client asked for a copy of their data"),
    Purpose.ERASURE: _l("to handle the client's request to erase their data"),
    Purpose.FEEDBACK: _l("to record the client's feedback"),
    Purpose.LOGINS: _l("to manage the client's login"),
    "a relative acting for the client": _l("a relative acting for the client"),
}


# What was seen on the client's own pages, as a relative reads it (other data is
# named with the staff log's third-person words).
OTHER_WHAT_WORDS = {
    "access log": _l("the list of who has seen the client's data"), "my services": _l("the client's services"),
    "my network": _l("the people who help the client"), "messages": _l("the client's messages"),
    "service vouchers": _l("the client's service vouchers"),
}


@dataclass
class PortalLogLine:
    """One row of the access log as the client side reads it: who did what, and why."""
    who: str
    did: str  # Markup when it holds a stored text marked as English
    why: str


def portal_log_line(row: AccessLogEntry, viewer, own: bool) -> PortalLogLine:
    """A row of the client's access log in plain words for ``viewer``: the client
    (``own``: "you", "your services") or a relative acting for them (about "the
    client", and the relative's own acts as "you"). A relative who acted is named as
    a relative, not as a client."""
    actor = row.actor
    mine = actor is not None and actor.id == viewer.id
    if mine:
        who = ""
    elif actor is None:
        who = _("Kotiapu, automatically")
    else:
        role = _("Relative") if actor.role == Role.CLIENT and actor.client_id != row.client_id \
            else role_label(row.actor_role)
        name = actor.name or actor.email
        who = f"{name}, {actor.provider.name} ({role})" if actor.provider else f"{name} ({role})"
    if row.action in ACTION_SENTENCES and not mine:
        did = str(ACTION_SENTENCES[row.action][0 if own else 1])
    else:
        verb = self_action_words(row.action) if mine else action_words(row.action)
        if own:
            thing = what_words(row.what)
        elif row.what in OTHER_WHAT_WORDS:
            thing = str(OTHER_WHAT_WORDS[row.what])
        else:
            thing = staff_what_label(row.what or "")
        did = Markup("%s: %s") % (verb, thing)
    if own:
        why = purpose_words(row.purpose)
    elif mine and row.purpose == policy.RELATIVE_PURPOSE:
        why = _("you acted for the client")
    else:
        why = str(OTHER_PURPOSE_WORDS.get(row.purpose, row.purpose))
    return PortalLogLine(who, did, why)


STAFF_ACTION_LABELS = {
    "view": _l("Viewed"), "list": _l("Listed"), "change": _l("Changed"), "update": _l("Changed"),
    "create": _l("Registered"), "order": _l("Ordered"), "export": _l("Exported"), "erase": _l("Erased"),
    "voucher": _l("Granted a service voucher"), "webhook": _l("Sent to a provider's system"),
}


# The staff access log shows the stored words (codes in English) in the reader's
# language, in the third person; a "what" no table knows is shown as stored.
STAFF_PURPOSE_LABELS = {
    Purpose.GUIDANCE: _l("client guidance"),
    Purpose.ORDERING: _l("placing or following a service order"),
    Purpose.SERVICE: _l("providing the ordered service"),
    Purpose.OWN_DATA: _l("the client viewing their own data"),
    Purpose.EXPORT: _l("data export on request"),
    Purpose.ERASURE: _l("erasure on request"),
    Purpose.FEEDBACK: _l("recording feedback"),
    Purpose.LOGINS: _l("managing the client's login"),
    "a relative acting for the client": _l("a relative acting for the client"),
}
CHANNEL_LABELS = {"web": _l("web page"), "api": _l("interface (API)"), "system": _l("automatic")}
STAFF_WHAT_LABELS = {
    "client record": _l("client record"), "client details": _l("client details"),
    "name in search results": _l("name in search results"), "name in order list": _l("name in the order list"),
    "name in provider inbox": _l("name in the provider's order inbox"),
    "name in guidance contacts": _l("name in the guidance contacts"),
    "name in access-log search": _l("name in the access-log search"), "name on the dashboard": _l("name on the dashboard"),
    "service order": _l("service order"), "client record for ordering": _l("client record, for ordering"),
    "client record for a service voucher": _l("client record, for a service voucher"),
    "consent to share with providers": _l("consent to share with providers"),
    "responsible worker": _l("responsible worker"), "network": _l("network"),
    "relatives acting for the client": _l("relatives acting for the client"), "client login": _l("client login"),
    "guidance contact": _l("guidance contact"), "follow-up": _l("follow-up"),
    "retention decision": _l("retention decision"), "erasure request": _l("erasure request"),
    "erasure decision": _l("erasure decision"), "message": _l("message"), "messages": _l("messages"),
    "my services": _l("the client's services page"), "my network": _l("the client's network page"),
    "access log": _l("access log"), "all data held on the client": _l("all data held on the client"),
    "my data": _l("the client's data page"), "client record and services": _l("client record and services"),
    "client record, orders, network and messages": _l("client record, orders, network and messages"),
    "name for a guidance contact": _l("name, for a guidance contact"),
    "name in the list of whose services": _l("name in a relative's list of clients"),
    "contact details": _l("contact details"), "consent": _l("consent"),
    "contact details for a purchase": _l("contact details, for a purchase"), "orders list": _l("order list"),
    "feedback given by phone": _l("feedback given by phone"), "feedback": _l("feedback"),
    "concern text": _l("text of a concern"), "help request": _l("help request"),
    "buyer's name in the purchase list": _l("buyer's name in the purchase list"),
    "service vouchers": _l("service vouchers"), "service voucher granted": _l("service voucher granted"),
    "vouchers list": _l("voucher list"), "voucher-funded orders": _l("voucher-funded orders"),
    "voucher events to review": _l("voucher events to review"),
}
STAFF_WHAT_PATTERNS = (
    (re.compile(r"^order (\S+)$"), _l("order %(number)s")),
    (re.compile(r"^purchase (\S+): name and address$"), _l("purchase %(number)s: name and address")),
    (re.compile(r"^purchase (\S+): contact details$"), _l("purchase %(number)s: contact details")),
    (re.compile(r"^purchase (\S+)$"), _l("purchase %(number)s")),
    (re.compile(r"^feedback on order (\S+)$"), _l("feedback on order %(number)s")),
    (re.compile(r"^name, for feedback on order (\S+)$"), _l("name, for feedback on order %(number)s")),
    (re.compile(r"^service voucher (\S+)$"), _l("service voucher %(number)s")),
)


def staff_what_label(what: str) -> Markup:
    """What of the client's data a row of the staff access log names, in the
    reader's language; text no table knows is shown as stored, marked English."""
    if what in STAFF_WHAT_LABELS:
        return Markup.escape(str(STAFF_WHAT_LABELS[what]))
    for pattern, text in STAFF_WHAT_PATTERNS:
        match = pattern.match(what or "")
        if match:
            return Markup.escape(str(text) % {"number": match.group(1)})
    return Markup('<span lang="en">%s</span>') % (what or "")


staff_action_label = labeller(STAFF_ACTION_LABELS, "staff_action_label")
staff_purpose_label = labeller(STAFF_PURPOSE_LABELS, "staff_purpose_label")
channel_label = labeller(CHANNEL_LABELS, "access_channel_label")
action_words = labeller(ACTION_WORDS, "action_words")
self_action_words = labeller(SELF_ACTION_WORDS, "self_action_words")
purpose_words = labeller(PURPOSE_WORDS, "purpose_words")


def what_words(what: str) -> str:
    if what in WHAT_WORDS:
        return str(WHAT_WORDS[what])
    for pattern, text in WHAT_PATTERNS:
        match = pattern.fullmatch(what)
        if match:
            return str(text) % match.groupdict()
    for prefix, text in sorted(WHAT_PREFIXES, key=lambda p: -len(p[0])):
        if what.startswith(prefix):
            return str(text) % {"number": what[len(prefix):]}
    return what


def access_log(client_id: int, cursor: int | None = None, limit: int = PAGE_SIZE, *, actor_text: str | None = None,
               action: str | None = None, since: date | None = None, until: date | None = None) -> list[AccessLogEntry]:
    """A client's access-log rows, newest first, keyset-paged by id (fetches
    limit+1 so the caller knows whether there is a next page)."""
    return _log_query([AccessLogEntry.client_id == client_id], cursor, limit, actor_text, action, since, until)


def search_access_log(cursor: int | None = None, limit: int = PAGE_SIZE, *, client_id: int | None = None,
                      actor_text: str | None = None, action: str | None = None, since: date | None = None,
                      until: date | None = None) -> list[AccessLogEntry]:
    """Access-log rows across clients for staff, with the same filters."""
    conditions = [AccessLogEntry.client_id == client_id] if client_id else []
    return _log_query(conditions, cursor, limit, actor_text, action, since, until, load_client=True)


def _log_query(conditions, cursor, limit, actor_text, action, since, until, load_client=False):
    # The reads this request has recorded (the page's own) are written first, so the
    # list includes them, as the person reading it expects.
    write_access_rows_now()
    stmt = sa.select(AccessLogEntry).where(*conditions)
    if cursor:
        # Newest first by time (rows may be written with earlier times, e.g. imports): the
        # cursor is the id of the last row shown, and the next page continues after its time.
        last_at = db.session.scalar(sa.select(AccessLogEntry.at).where(AccessLogEntry.id == cursor))
        if last_at is None:
            return []
        stmt = stmt.where(sa.or_(AccessLogEntry.at < last_at,
                                 sa.and_(AccessLogEntry.at == last_at, AccessLogEntry.id < cursor)))
    if actor_text:
        like = "%" + actor_text.lower().replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(AccessLogEntry.actor_id.in_(sa.select(User.id).where(sa.or_(
            sa.func.lower(User.name).like(like), sa.func.lower(User.email).like(like)))))
    if action:
        stmt = stmt.where(AccessLogEntry.action == action)
    tz = utcnow().tzinfo
    if since:
        stmt = stmt.where(AccessLogEntry.at >= datetime(since.year, since.month, since.day, tzinfo=tz))
    if until:
        end = until + timedelta(days=1)
        stmt = stmt.where(AccessLogEntry.at < datetime(end.year, end.month, end.day, tzinfo=tz))
    options = [joinedload(AccessLogEntry.actor).joinedload(User.provider)]
    rows = db.session.scalars(stmt.options(*options).order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
                              .limit(limit + 1)).all()
    if load_client and rows:
        ids = {r.client_id for r in rows}
        clients = {c.id: c for c in db.session.scalars(sa.select(Client).where(Client.id.in_(ids)))}
        for r in rows:
            r.client_row = clients.get(r.client_id)
    return list(rows)


access_log_item = access_entry_json  # the API's shape of an access-log row


# -- the data export -----------------------------------------------------------

# Columns never exported: secrets and what only the platform needs.
_NOT_EXPORTED = {
    "users": {"password_hash", "session_version"},
    "feedback_links": {"token_hash", "nonce"},
    "shop_orders": {"access_token_hash", "stripe_checkout_session_id", "stripe_payment_intent_id"},
}
# Not in the client's own download: the text of a concern a provider raised is for
# the client's workers (issue 13); the row (when, urgency, handled) is exported.
_NOT_EXPORTED_TO_CLIENT = {"concerns": {"description"}}


def _references(table: sa.Table, target: str) -> list[sa.Column]:
    return [fk.parent for fk in table.foreign_keys if fk.column.table.name == target]


def export_client_data(actor, client_id: int) -> dict:
    """Everything held on the client, as JSON values: every table that refers to
    the client, to the client's service orders or to their purchases, found from
    the schema (so a new table is exported without anyone remembering to add it),
    plus the names of the people, organisations and services the rows refer to.
    The identity code only masked; address and phone of a client under the
    non-disclosure marking only for the client themselves and their responsible
    worker. Who: the client themselves, or staff (a relative gets
    PermissionDenied ``own_data_only``). Writes one access-log row."""
    policy.require_own_or_staff(
        actor, client_id, refused=_("Only the client or guidance staff can export a client's data."),
        denied=_("Only the client themselves can download all their data; a relative can see the services, the "
                 "network and the messages."))
    client = db.session.get(Client, client_id)
    if client is None or client.erased_at is not None:
        raise NotFoundError(_("Client not found."))
    purpose = Purpose.EXPORT if actor.role == Role.STAFF else policy.client_side_purpose(actor, client_id)
    record_access(client.id, "export", purpose, what="all data held on the client", actor=actor)
    db.session.flush()

    tables = {t.name: t for t in db.metadata.sorted_tables}
    order_ids = list(db.session.scalars(sa.select(tables["service_orders"].c.id)
                                        .where(tables["service_orders"].c.client_id == client.id)))
    shop_ids = list(db.session.scalars(sa.select(tables["shop_orders"].c.id)
                                       .where(tables["shop_orders"].c.client_id == client.id)))
    data: dict[str, list[dict]] = {}
    for name, table in tables.items():
        if name == "clients":
            continue
        conditions = [col == client.id for col in _references(table, "clients")]
        if order_ids:
            conditions += [col.in_(order_ids) for col in _references(table, "service_orders")]
        if shop_ids:
            conditions += [col.in_(shop_ids) for col in _references(table, "shop_orders")]
        if not conditions:
            continue
        hidden = _NOT_EXPORTED.get(name, set())
        if actor.role != Role.STAFF:
            hidden = hidden | _NOT_EXPORTED_TO_CLIENT.get(name, set())
        rows = db.session.execute(sa.select(table).where(sa.or_(*conditions)).order_by(*table.primary_key.columns))
        data[name] = [{k: json_value(v) for k, v in row._mapping.items() if k not in hidden} for row in rows]

    record = client_json(client, actor, everything=True)
    return {
        "exported_at": json_value(utcnow()),
        "client": record,
        "tables": data,
        "names": _names(tables, data),
        "notes": ["The personal identity code is shown masked; the guidance office can confirm it.",
                  "Ids in the tables refer to the rows of the other tables and to the names listed in 'names'."],
    }


def _names(tables: dict, data: dict) -> dict:
    """Names for the ids the exported rows refer to: people (name and role only),
    organisations and services."""
    wanted: dict[str, set] = {"users": set(), "providers": set(), "service_types": set()}
    for name, rows in data.items():
        for target in wanted:
            cols = [c.name for c in _references(tables[name], target)]
            for row in rows:
                wanted[target].update(row[c] for c in cols if row.get(c) is not None)
    people = {u.id: {"name": u.name, "role": u.role}
              for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted["users"])))}
    orgs = {p.id: p.name for p in db.session.scalars(sa.select(Provider).where(Provider.id.in_(wanted["providers"])))}
    services = {s.id: s.name() for s in db.session.scalars(
        sa.select(ServiceType).where(ServiceType.id.in_(wanted["service_types"])))}
    return {"people": {str(k): v for k, v in sorted(people.items())},
            "organisations": {str(k): v for k, v in sorted(orgs.items())},
            "services": {str(k): v for k, v in sorted(services.items())}}
