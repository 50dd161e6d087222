"""The demo data set: a small, lifelike Tampere-region marketplace.

``load_demo()`` fills an empty database with what a pilot of a wellbeing services
county would look like after a few months of use: the platform's own users, a dozen
approved providers (associations, companies and two staffing agencies) with their
offerings, two provider applications waiting for a decision, a trilingual service
catalogue, 60 clients with their networks, about 80 service orders in every state
of the order lifecycle with offers, events and visit reports, feedback, self-paid
purchases, an open staffing request and a few help requests in the front door's
callback queue.

One module per domain builds its part (``demo.accounts``, ``demo.catalogue``,
``demo.providers``, ``demo.staffing``, ``demo.clients``, ``demo.orders``,
``demo.feedback``, ``demo.shop``, ``demo.frontdoor``); ``demo.base`` holds what they share. The set is
built through the domain services wherever a service can write it with the story's
dates (logins, providers and their approval, the catalogue and offerings, the
orders from placing to closing, feedback links and moderation, the staffing round),
each step then moved back to when it happened; the rest are rows, and each module
says why (docs/demo.md sums it up).

Everything comes from ``random.Random(2026)``, so the set is the same on every run
(only the secret tokens differ). Timestamps are relative to now, so the data always
looks current. ``load_demo`` flushes and never commits: the caller (``flask demo``,
``flask serve``, a test) commits. The ``demo`` and ``serve`` commands are in
``demo.cli``.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext

from accounts.models import User
from core.errors import ConflictError
from core.extensions import db
from demo import accounts, catalogue, clients, feedback, frontdoor, identity, orders, providers, shop, staffing, vouchers
from demo.base import DEMO_LOGINS, DEMO_PASSWORD, Demo

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "load_demo"]

# The steps in the order they run: later steps use the rows of earlier ones.
STEPS = (
    accounts.build_platform_users,
    catalogue.build_catalogue,
    providers.build_providers,
    catalogue.build_offerings,
    providers.build_rankings,
    staffing.build_staffing_coverage,
    clients.build_clients,
    clients.build_client_logins,
    identity.build_identity_links,
    clients.build_networks,
    clients.build_guidance_contacts,
    orders.build_orders,
    feedback.hide_one_feedback,
    feedback.update_ratings,
    clients.build_order_network,
    clients.build_segment_checks,
    clients.build_messages,
    clients.build_access_log,
    clients.finish_clients,
    shop.build_shop_orders,
    staffing.build_staffing_request,
    vouchers.build_voucher_events,
    frontdoor.build_help_requests,
)


def load_demo() -> dict:
    """Load the demo data set into ``db.session`` (flushed, not committed) and return a
    summary of what was created, e.g. ``{"users": 27, "providers": 14, ...}``.

    Meant for an empty database. Raises ConflictError (``demo_loaded``) when the demo
    logins already exist.
    """
    if db.session.scalar(sa.select(User.id).where(User.email == DEMO_LOGINS[0][1])) is not None:
        raise ConflictError(gettext("The demo data is already loaded (its logins exist)."), code="demo_loaded")
    demo = Demo()
    for step in STEPS:
        step(demo)
    db.session.flush()
    return dict(sorted(demo.counts.items()))
