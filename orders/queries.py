"""Read side of orders: the staff order list with filters, the provider inbox and
an order's page data. Queries are scoped through ``accounts.permissions`` and their
number does not grow with the rows shown (joined/select-in loading)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from accounts.models import Role, User
from orders.scopes import scope_orders
from clients.models import Client, Concern
from core.db import sql_code, where_given
from core.extensions import db
from core.kept import Kept
from catalogue.models import ServiceCategory, ServiceType
from core.i18n import current_language
from orders.models import Offer, OfferStatus, OrderEvent, OrderStatus, ServiceOrder
from providers.models import Provider

PAGE_SIZE = 50


@dataclass
class OrderFilters:
    status: str | None = None
    service_type_id: int | None = None
    provider_id: int | None = None
    provider: str | None = None  # part of the provider's name
    worker_id: int | None = None
    client: str | None = None
    client_id: int | None = None


@dataclass
class Page:
    items: list
    next_cursor: int | None = None
    extra: dict = field(default_factory=dict)


# What a list shows of a service type: its name in each language.
LIST_TYPE_COLUMNS = (ServiceType.id, ServiceType.name_fi, ServiceType.name_sv, ServiceType.name_en)


def type_name_column(lang: str | None = None):
    """A service type's name in the language (``ServiceType.name()``: the Finnish
    name where the language has none), as a column of a query."""
    lang = lang or current_language()
    names = ServiceType.__table__.c
    column = names.get(f"name_{lang}", names.name_fi)
    return sa.func.coalesce(sa.func.nullif(column, ""), names.name_fi)


def _list_statements(lang: str) -> dict:
    """The lists' statements in the language ``lang`` (the service type's name), built
    once each and reused with bound values (``provider_id``, ``limit``): building them
    cost more of a list's time than running them. Filters and a page's cursor are
    added to them per request."""
    built = _LIST_STATEMENTS.get(lang)
    if built is None:
        built = _LIST_STATEMENTS[lang] = _build_list_statements(lang)
    return built


_LIST_STATEMENTS: dict[str, dict] = {}
_NO_CURSOR = 2**31 - 1  # "before" on a list's first page: above every id


def _build_list_statements(lang: str) -> dict:
    provider_id = sa.bindparam("provider_id", type_=sa.Integer)
    limit = sa.bindparam("limit", type_=sa.Integer)
    service_name = type_name_column(lang).label("service_name")
    names = ServiceType.__table__.c
    waiting = (Offer.provider_id == provider_id, Offer.status == OfferStatus.PENDING, Offer.sent_at.is_not(None))
    # The provider inbox's page of won orders, newest first (``before``: the page's
    # cursor, the largest id when there is none).
    won = (sa.select(ServiceOrder.id, ServiceOrder.number, ServiceOrder.client_id, ServiceOrder.status,
                     ServiceOrder.start_date, ServiceOrder.service_type_id)
           .where(ServiceOrder.provider_id == provider_id,
                  ServiceOrder.status.in_([sql_code(status) for status in INBOX_ORDER_STATUSES]),
                  ServiceOrder.id < sa.bindparam("before", type_=sa.Integer))
           .order_by(ServiceOrder.id.desc()).limit(limit).subquery("picked"))
    # templates/orders/staff_list.html and provider_inbox.html unpack the rows in the
    # order of these columns.
    return {
        "staff_orders": sa.select(
            ServiceOrder.id, ServiceOrder.number, ServiceOrder.has_concern, ServiceOrder.client_id,
            ServiceOrder.status, ServiceOrder.start_date,
            Client.first_name.label("client_first_name"), Client.last_name.label("client_last_name"),
            service_name, Provider.name.label("provider_name"))
        .join(Client, Client.id == ServiceOrder.client_id)
        .join(ServiceType, ServiceType.id == ServiceOrder.service_type_id)
        .outerjoin(Provider, Provider.id == ServiceOrder.provider_id)
        .order_by(ServiceOrder.id.desc()).limit(limit),
        # With the number of all the waiting offers (when a page's worth are shown): a
        # count once per statement beside the rows read in the index's order.
        "offers": sa.select(Offer.order_id, Offer.deadline_at, ServiceOrder.number, ServiceOrder.start_date,
                            Client.postal_code, service_name,
                            sa.select(sa.func.count()).select_from(sa.select(Offer.id).where(*waiting).subquery())
                            .scalar_subquery().label("waiting_count"))
        .join(ServiceOrder, ServiceOrder.id == Offer.order_id)
        .join(Client, Client.id == ServiceOrder.client_id)
        .join(ServiceType, ServiceType.id == ServiceOrder.service_type_id)
        .where(*waiting).order_by(Offer.deadline_at, Offer.id).limit(limit),
        # The page's orders are read in order from the partial index of won orders,
        # which includes the shown columns (perf3), then joined with their client and
        # service type. The statuses are written into the statement, not bound, so
        # that its generic plan can use that index.
        "inbox_orders": sa.select(
            won.c.id, won.c.number, won.c.client_id, won.c.status, won.c.start_date,
            Client.first_name.label("client_first_name"), Client.last_name.label("client_last_name"), service_name)
        .select_from(won)
        .join(Client, Client.id == won.c.client_id)
        .join(ServiceType, ServiceType.id == won.c.service_type_id)
        .order_by(won.c.id.desc()),
        # The staff list's two filter lists in one statement: the active guidance
        # workers by name (part 0), the service types in the catalogue's order (part 1).
        "filter_choices": sa.union_all(
            sa.select(sa.literal(0).label("part"), User.id, User.name.label("name"),
                      sa.func.row_number().over(order_by=User.name).label("position"))
            .where(User.role == Role.STAFF, User.active.is_(True)),
            sa.select(sa.literal(1), names.id, type_name_column(lang), sa.func.row_number().over(
                order_by=(ServiceCategory.position, ServiceCategory.id, names.name_fi)))
            .join(ServiceCategory, ServiceCategory.id == names.category_id))
        .order_by(sa.literal_column("part"), sa.literal_column("position")),
    }


def _rows(stmt, values: dict) -> list:
    """A list's rows of plain columns, run on the session's connection (its
    transaction) as a Core statement: the ORM's execution around a statement without
    entities (its compile state, autoflush, the loading of each row) cost about 60 µs
    of CPU per statement for nothing here. Nothing the lists read is changed earlier
    in the request, so there is nothing to flush first (a pending touch of the login
    session's last-seen time goes with the commit, as any write does)."""
    return db.session.connection().execute(stmt, values).all()


def staff_orders(actor, filters: OrderFilters, cursor: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Orders for guidance staff, newest first, keyset-paged by id. Rows, not ORM
    objects: only the shown columns, by name (``o.number``, ``o.client_last_name``,
    ``o.service_name``, ``o.provider_name`` …)."""
    stmt = scope_orders(_list_statements(current_language())["staff_orders"], actor)
    stmt = where_given(stmt, (ServiceOrder.status, filters.status),
                       (ServiceOrder.service_type_id, filters.service_type_id),
                       (ServiceOrder.provider_id, filters.provider_id))
    if filters.provider:
        like = "%" + filters.provider.lower().replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(ServiceOrder.provider_id.in_(
            sa.select(Provider.id).where(sa.func.lower(Provider.name).like(like))))
    if filters.client_id:
        stmt = stmt.where(ServiceOrder.client_id == filters.client_id)
    if filters.worker_id:
        stmt = stmt.where(Client.responsible_worker_id == filters.worker_id)
    for word in (filters.client or "").split()[:3]:
        like = word.lower().replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(sa.or_(sa.func.lower(Client.first_name).like(like),
                                 sa.func.lower(Client.last_name).like(like)))
    if cursor:
        stmt = stmt.where(ServiceOrder.id < cursor)
    rows = _rows(stmt, {"limit": limit + 1})
    return Page(items=rows[:limit], next_cursor=rows[limit - 1].id if len(rows) > limit else None)


# The orders a provider's inbox lists: won by the organisation and not yet closed.
INBOX_ORDER_STATUSES = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)


def provider_inbox(actor, cursor: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """The provider's inbox: offers waiting for an answer (soonest deadline first,
    with the number of all of them) and, paged, the orders the organisation has won and not yet finished. Rows of
    the shown columns, not ORM objects."""
    statements = _list_statements(current_language())
    offers = _rows(statements["offers"], {"provider_id": actor.provider_id, "limit": limit})
    waiting_count = offers[0].waiting_count if offers else 0
    rows = _rows(statements["inbox_orders"], {"provider_id": actor.provider_id, "limit": limit + 1,
                                              "before": cursor or _NO_CURSOR})
    return Page(items=rows[:limit], next_cursor=rows[limit - 1].id if len(rows) > limit else None,
                extra={"offers": offers, "waiting_count": waiting_count})


def order_page(order: ServiceOrder) -> dict:
    """Everything the order page shows, loaded in a fixed number of queries."""
    order = db.session.scalar(
        sa.select(ServiceOrder).where(ServiceOrder.id == order.id)
        .options(joinedload(ServiceOrder.client), joinedload(ServiceOrder.service_type),
                 joinedload(ServiceOrder.provider), joinedload(ServiceOrder.ordered_by),
                 selectinload(ServiceOrder.offers).joinedload(Offer.provider),
                 selectinload(ServiceOrder.events).joinedload(OrderEvent.actor), selectinload(ServiceOrder.visits)))
    return {"order": order}


# The staff order list's filter choices, kept 5 s per web process and language
# (core.kept: a change of a user, a service type or a category drops them at once
# in the process that makes it). No client data.
_choices_kept = Kept("order-filter-choices", {"users", "service_types", "service_categories"})


def filter_choices() -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]:
    """The staff order list's filter lists: (id, name) of the active guidance
    workers by name, and of every service type in the current language in the
    catalogue's order. Read in one statement, and kept for a few seconds."""
    lang = current_language()

    def read():
        workers, service_types = [], []
        for part, choice_id, name, _position in db.session.execute(_list_statements(lang)["filter_choices"]):
            (service_types if part else workers).append((choice_id, name))
        return tuple(workers), tuple(service_types)  # shared by the requests: not to be changed

    return _choices_kept.value(lang, read)


def concerns_of_order(order: ServiceOrder, user) -> list[Concern]:
    """The concerns raised on the order, with their text, for those who may read
    them (``orders.policy.sees_concerns``): staff, and the provider organisation
    that raised them (its own only). Never the client or relatives."""
    from orders import policy

    if not policy.sees_concerns(order, user):
        return []
    stmt = sa.select(Concern).where(Concern.order_id == order.id).options(
        joinedload(Concern.reported_by), joinedload(Concern.acknowledged_by)).order_by(Concern.created_at.desc())
    if user.role != "staff":
        stmt = stmt.where(Concern.provider_id == user.provider_id)
    return db.session.scalars(stmt).all()
