"""A provider's own figures beside its area's median, for the provider dashboard.

Read-only. The figures of every provider in the area are computed by three
aggregate queries (GROUP BY and window functions, the same SQL on SQLite and
PostgreSQL), however many offers there are; only the per-provider results (one row
per provider in the area, a few hundred at most) are handled in Python.

- acceptance rate: accepted / (accepted + declined + expired) offers sent in the
  last ``PERIOD_DAYS`` days (withdrawn offers are not the provider's answer);
- response time: the median of ``answered_at - sent_at`` of the answered offers
  (accepted or declined) in the same period;
- rating: the published feedback average (kept on the provider row).

The area is the approved providers that serve at least one postal code the
provider serves with an active offering; a provider without offerings is compared
with every approved provider.
"""

from __future__ import annotations

import statistics
from datetime import timedelta

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from catalogue.models import Offering, OfferingArea
from orders.models import Offer, OfferStatus
from providers.models import Provider, ProviderStatus

PERIOD_DAYS = 90


def _seconds_between(later, earlier):
    """Seconds between two timestamp columns, in the dialect of the database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", later - earlier)
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0


def provider_figures(provider_id: int) -> dict:
    """``{"own": {...}, "area": {...}, "area_size": n, "period_days": d}`` where each of
    own/area holds ``acceptance_rate`` (0..1 or None), ``response_seconds`` (or None),
    ``rating`` (or None) and, for own, ``answered`` and ``rating_count``."""
    own_codes = (sa.select(OfferingArea.postal_code).join(Offering, Offering.id == OfferingArea.offering_id)
                 .where(Offering.provider_id == provider_id, Offering.active.is_(True)))
    sharing = (sa.select(Offering.provider_id).join(OfferingArea, OfferingArea.offering_id == Offering.id)
               .where(Offering.active.is_(True), OfferingArea.postal_code.in_(own_codes)))
    has_area = sa.exists(own_codes)
    # 1: the area's providers with their ratings (and this provider, whatever its status).
    area_rows = db.session.execute(
        sa.select(Provider.id, Provider.rating_sum, Provider.rating_count).where(
            sa.or_(Provider.id == provider_id,
                   sa.and_(Provider.status == ProviderStatus.APPROVED,
                           sa.or_(~has_area, Provider.id.in_(sharing)))))).all()
    area_ids = [r.id for r in area_rows]
    since = utcnow() - timedelta(days=PERIOD_DAYS)
    decided = (OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED)
    # 2: acceptance per provider.
    acceptance = {
        pid: (accepted, total) for pid, accepted, total in db.session.execute(
            sa.select(Offer.provider_id,
                      sa.func.sum(sa.case((Offer.status == OfferStatus.ACCEPTED, 1), else_=0)),
                      sa.func.count())
            .where(Offer.provider_id.in_(area_ids), Offer.sent_at >= since, Offer.status.in_(decided))
            .group_by(Offer.provider_id))}
    # 3: median response time per provider (middle row(s) by a window function).
    seconds = _seconds_between(Offer.answered_at, Offer.sent_at)
    ranked = (sa.select(Offer.provider_id.label("pid"), seconds.label("s"),
                        sa.func.row_number().over(partition_by=Offer.provider_id, order_by=seconds).label("rn"),
                        sa.func.count().over(partition_by=Offer.provider_id).label("n"))
              .where(Offer.provider_id.in_(area_ids), Offer.sent_at >= since, Offer.answered_at.is_not(None),
                     Offer.status.in_((OfferStatus.ACCEPTED, OfferStatus.DECLINED)))
              .subquery())
    medians = dict(db.session.execute(
        sa.select(ranked.c.pid, sa.func.avg(ranked.c.s))
        .where(sa.or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2))
        .group_by(ranked.c.pid)).all())

    def rate(pid):
        accepted, total = acceptance.get(pid, (0, 0))
        return (accepted or 0) / total if total else None

    ratings = {r.id: (r.rating_sum / r.rating_count if r.rating_count else None) for r in area_rows}
    own_row = next((r for r in area_rows if r.id == provider_id), None)

    def median(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    return {
        "own": {
            "acceptance_rate": rate(provider_id),
            "answered": acceptance.get(provider_id, (0, 0))[1],
            "response_seconds": float(medians[provider_id]) if medians.get(provider_id) is not None else None,
            "rating": ratings.get(provider_id),
            "rating_count": own_row.rating_count if own_row else 0,
        },
        "area": {
            "acceptance_rate": median(rate(pid) for pid in area_ids),
            "response_seconds": median(float(v) for v in medians.values() if v is not None),
            "rating": median(ratings.values()),
        },
        "area_size": len(area_ids),
        "period_days": PERIOD_DAYS,
    }


def format_duration(seconds: float | None) -> str | None:
    """``2 h 15 min`` / ``45 min`` / ``3 d 4 h`` for a number of seconds."""
    if seconds is None:
        return None
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
