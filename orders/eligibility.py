"""Which providers may get an order: approved, offering the service type at the
client's postal code in a language the client speaks, with capacity left this
week; and whether a provider's automatic-acceptance rule takes an offer at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from clients.models import Client
from core.bounds import MAX_INT
from core.db import utcnow
from core.extensions import db
from catalogue.models import Offering, OfferingArea
from orders.models import Offer, ServiceOrder
from providers.models import AutoAcceptRule, Provider, ProviderCapacity, ProviderRanking, ProviderStatus


@dataclass
class Eligible:
    provider: Provider
    offering: Offering
    rank: int | None = None
    # Whether the provider has an active automatic-acceptance rule (read with the
    # eligibility, so that offering to providers without one needs no query).
    has_auto_accept_rule: bool | None = None

    @property
    def rating(self) -> float | None:
        return self.provider.rating_average


def week_start():
    return utcnow() - timedelta(days=7)


def eligible_providers(client: Client, service_type_id: int, exclude: set[int] | None = None,
                       only: list[int] | None = None) -> list[Eligible]:
    """Providers that may get this client's order: approved, offering the service
    type at the client's postal code, in a language the client speaks, and with
    capacity left this week. Ranked providers first (by procured rank), then by
    rating and price.

    One query reads the offerings with their providers, each provider's weekly
    capacity for the service type, its procured rank in the client's area and
    whether it has an automatic-acceptance rule (the capacity and the ranking are
    unique per provider, service type (and area), so the outer joins add no rows);
    a second counts this week's orders only when some provider has a capacity.
    ``only``: look at these providers alone (the ones a caller named)."""
    params = {"postal_code": client.postal_code, "service_type_id": service_type_id}
    if only is not None:
        # An id no column can hold (a tampered form) is simply not eligible.
        params["only"] = sorted({i for i in only if isinstance(i, int) and 0 < i <= MAX_INT})
    rows = db.session.execute(_eligibility_statement(only is not None), params).all()
    speaks = set(client.languages or [])
    best: dict[int, Eligible] = {}
    caps: dict[int, int] = {}
    for offering, provider, cap, rank, rule in rows:
        if exclude and provider.id in exclude:
            continue
        offered_languages = set(offering.languages or provider.languages or [])
        if speaks and offered_languages and not (speaks & offered_languages):
            continue
        if provider.id not in best:
            best[provider.id] = Eligible(provider, offering, rank, bool(rule))
            if cap is not None:
                caps[provider.id] = cap
    if not best:
        return []
    full = _providers_at_capacity(caps, service_type_id)
    result = [item for pid, item in best.items() if pid not in full]
    result.sort(key=lambda e: (e.rank is None, e.rank or 0, -(e.rating or 0), e.offering.price_cents or 0, e.provider.name))
    return result


_statements: dict[bool, sa.Select] = {}


def _eligibility_statement(only: bool) -> sa.Select:
    """The eligibility query for bound ``postal_code`` and ``service_type_id`` (and
    the ``only`` provider ids), built at first use (at import it would configure the
    mappers before the forking worker means to) and reused: building it was a fair
    share of placing an order."""
    stmt = _statements.get(only)
    if stmt is not None:
        return stmt
    postal_code = sa.bindparam("postal_code", type_=OfferingArea.postal_code.type)
    service_type_id = sa.bindparam("service_type_id", type_=sa.Integer)
    has_rule = sa.exists().where(AutoAcceptRule.provider_id == Provider.id, AutoAcceptRule.active.is_(True))
    stmt = (
        sa.select(Offering, Provider, ProviderCapacity.orders_per_week, ProviderRanking.rank, has_rule)
        .join(OfferingArea, sa.and_(OfferingArea.offering_id == Offering.id, OfferingArea.postal_code == postal_code))
        .join(Provider, Provider.id == Offering.provider_id)
        .outerjoin(ProviderCapacity, sa.and_(ProviderCapacity.provider_id == Provider.id,
                                             ProviderCapacity.service_type_id == service_type_id))
        .outerjoin(ProviderRanking, sa.and_(ProviderRanking.provider_id == Provider.id,
                                            ProviderRanking.service_type_id == service_type_id,
                                            ProviderRanking.postal_code == postal_code))
        .where(Offering.service_type_id == service_type_id, Offering.active.is_(True),
               Provider.status == ProviderStatus.APPROVED)
        .order_by(Offering.price_cents.asc().nulls_last(), Offering.id)
        # The provider is in the row already, the service type is the caller's.
        .options(sa.orm.lazyload(Offering.provider), sa.orm.lazyload(Offering.service_type))
    )
    if only:
        stmt = stmt.where(Provider.id.in_(sa.bindparam("only", expanding=True)))
    _statements[only] = stmt
    return stmt


def _providers_at_capacity(caps: dict[int, int], service_type_id: int) -> set[int]:
    """Of the providers with a weekly capacity (``{provider id: orders per week}``),
    those that have accepted that many orders of the service type this week."""
    if not caps:
        return set()
    taken = dict(db.session.execute(
        sa.select(ServiceOrder.provider_id, sa.func.count())
        .where(ServiceOrder.provider_id.in_(list(caps)), ServiceOrder.service_type_id == service_type_id,
               ServiceOrder.accepted_at >= week_start())
        .group_by(ServiceOrder.provider_id)).all())
    return {pid for pid, cap in caps.items() if taken.get(pid, 0) >= cap}


def auto_accept_applies(order: ServiceOrder, provider_id: int) -> bool:
    rules = db.session.scalars(sa.select(AutoAcceptRule).where(
        AutoAcceptRule.provider_id == provider_id, AutoAcceptRule.active.is_(True))).all()
    client = db.session.get(Client, order.client_id)
    for rule in rules:
        if rule.service_type_ids and order.service_type_id not in rule.service_type_ids:
            continue
        if rule.postal_codes and client.postal_code not in rule.postal_codes:
            continue
        if rule.weekdays and order.start_date.weekday() not in rule.weekdays:
            continue
        if rule.capacity_per_week is not None:
            taken = db.session.scalar(sa.select(sa.func.count()).select_from(Offer).where(
                Offer.provider_id == provider_id, Offer.auto_accepted.is_(True), Offer.answered_at >= week_start()))
            if taken >= rule.capacity_per_week:
                continue
        return True
    return False
