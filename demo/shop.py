"""The self-paid shop: six purchases, one or more in each state (waiting for
payment, paid, delivered, cancelled, refunded), from guests and the demo client.

The purchases are written as rows with the same prices, VAT and deduction the
checkout computes (``deduction_base``) and the same buyer link (``access_token``):
they were made days or weeks ago and went through payments (Stripe for a card,
refunds) that the demo cannot make. The feedback link of a delivered purchase is
issued through the feedback service (``demo.feedback.issue_link``)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from accounts.models import User
from demo import catalogue, feedback
from core.time import local_date
from demo.base import DOMAIN, POSTAL_AREAS, Demo, ascii_name, number, random_token_hash, vat
# Shop models are imported through marketplace.models until the shop has its own package.
from marketplace.models import ShopOrder, ShopOrderEvent, ShopOrderItem, ShopOrderStatus
from catalogue.money import deduction_base
from marketplace.purchases import access_token

WEEKDAYS_FI = ("maanantaina", "tiistaina", "keskiviikkona", "torstaina", "perjantaina", "lauantaina",
               "sunnuntaina")


def build_shop_orders(d: Demo) -> None:
    """Purchases in every shop state, from guests and from the demo client."""
    aino, aino_user = d.clients[0], d.client_users[0]
    purchases = [  # (provider, [(service, qty)], buyer, postal, status, method, days ago)
        ("kirkaskoti", [("ikkunanpesu", 3)], "aino", "33500", ShopOrderStatus.FULFILLED, "invoice", 20),
        ("pirkanateria", [("ateriakuljetus", 10), ("erityisruokavaliot", 5)], "guest", "33540",
         ShopOrderStatus.PAID, "invoice", 2),
        ("heikkila", [("tukikahvat", 2), ("lamput-ja-paristot", 1)], "guest", "37100",
         ShopOrderStatus.PENDING_PAYMENT, "invoice", 0.3),
        ("koivisto", [("lumityot", 4)], "guest", "36200", ShopOrderStatus.CANCELLED, "card", 6),
        ("aaltohyvinvointi", [("jalkahoito", 1)], "aino", "33500", ShopOrderStatus.REFUNDED, "invoice", 35),
        ("kirkaskoti", [("suursiivous", 4)], "guest", "33720", ShopOrderStatus.FULFILLED, "invoice", 12),
    ]
    guests = [("Riitta Koskinen", "050 332 1190"), ("Pauli Nurmi", "044 901 2280"),
              ("Marjut Ylinen", "040 552 8712"), ("Kimmo Suvanto", "050 778 3301")]
    for slug, lines, buyer, postal, status, method, days in purchases:
        provider = d.providers[slug]
        created = d.ago(days=days)
        if buyer == "aino":
            name, email, phone, address, user, client = (aino.full_name, aino_user.email, aino.phone,
                                                         aino.address, aino_user, aino)
        else:
            name, phone = guests.pop(0)
            email = f"{ascii_name(name.split()[0])}.{ascii_name(name.split()[1])}@asiakas.{DOMAIN}"
            street = d.rng.choice(POSTAL_AREAS[postal][1])
            address, user, client = f"{street} {d.rng.randrange(1, 40)}", None, None
        day = local_date(created + timedelta(days=d.rng.randrange(2, 6)))
        wish = f"{WEEKDAYS_FI[day.weekday()].capitalize()} {day.day}.{day.month}. klo 9–12"
        shop = ShopOrder(number=f"tmp-{secrets.token_hex(8)}",
                         access_token_hash=random_token_hash(), provider_id=provider.id,
                         buyer_user_id=user.id if user else None, client_id=client.id if client else None,
                         buyer_name=name, buyer_email=email, buyer_phone=phone, buyer_address=address,
                         buyer_postal_code=postal, desired_time=wish, status=status, payment_method=method,
                         created_at=created, total_cents=0, vat_cents=0)
        for service_slug, quantity in lines:
            offering = catalogue.offering_of(d, provider, service_slug)
            if postal not in offering.postal_codes:
                raise RuntimeError(f"demo data: {slug} does not sell {service_slug} in {postal}")
            total = offering.price_cents * quantity
            # The amount that qualifies for the deduction (the labour share), as at checkout.
            deduction = deduction_base(total, offering.labour_share_percent, offering.household_deduction)
            shop.items.append(ShopOrderItem(
                offering_id=offering.id, description=d.services[service_slug].name_fi,
                unit=offering.unit, quantity=quantity, unit_price_cents=offering.price_cents,
                vat_rate_bp=offering.vat_rate_bp, total_cents=total, vat_cents=vat(total, offering.vat_rate_bp),
                household_deduction_cents=deduction))
        shop.total_cents = sum(i.total_cents for i in shop.items)
        shop.vat_cents = sum(i.vat_cents for i in shop.items)
        shop.household_deduction_cents = sum(i.household_deduction_cents for i in shop.items)
        d.add(shop)
        d.session.flush()
        shop.number = number("SH", created, shop.id)
        # Written before the refresh below, which would otherwise throw the number
        # away and leave the placeholder ("tmp-…") on the purchase (issue 13).
        d.session.flush()
        # The buyer's link is derived from the row, as for a real purchase.
        d.session.refresh(shop)
        shop.access_token_hash = hashlib.sha256(access_token(shop).encode()).hexdigest()
        _shop_history(d, shop, user, day)
        d.count("shop_orders")
        d.count("shop_order_items", len(shop.items))


def _shop_history(d: Demo, shop: ShopOrder, buyer: User | None, day: date) -> None:
    """Events and timestamps of a purchase from checkout to its current state."""
    provider_admin = d.provider_admins[shop.provider_id]
    # (from, to, actor, at, what the system says as a code and its parameters, what a person wrote)
    steps = [(None, ShopOrderStatus.PENDING_PAYMENT, buyer, shop.created_at, None, None)]
    if shop.status != ShopOrderStatus.CANCELLED:
        shop.confirmed_time = shop.desired_time
    if shop.status in (ShopOrderStatus.PAID, ShopOrderStatus.REFUNDED):
        # paid in advance; an invoice purchase is otherwise delivered first and invoiced afterwards
        shop.paid_at = shop.created_at + timedelta(hours=d.rng.uniform(0.5, 20))
        steps.append((ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.PAID, provider_admin, shop.paid_at,
                      ("shop.invoice_paid", {}), None))
    if shop.status == ShopOrderStatus.FULFILLED:
        shop.fulfilled_at = d.local(day, 15)
        steps.append((ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.FULFILLED, provider_admin,
                      shop.fulfilled_at, None, "Tehty; lasku lähetetty."))
        feedback.issue_link(d, shop.fulfilled_at, shop_order_id=shop.id)
    if shop.status == ShopOrderStatus.CANCELLED:
        shop.cancelled_at = shop.created_at + timedelta(minutes=35)
        steps.append((ShopOrderStatus.PENDING_PAYMENT, ShopOrderStatus.CANCELLED, None, shop.cancelled_at,
                      ("shop.payment_not_completed", {}), None))
    if shop.status == ShopOrderStatus.REFUNDED:
        shop.refunded_at = shop.paid_at + timedelta(days=2)
        shop.refunded_cents = shop.total_cents
        steps.append((ShopOrderStatus.PAID, ShopOrderStatus.REFUNDED, provider_admin, shop.refunded_at,
                      ("shop.refunded", {"amount": shop.total_cents}),
                      "Jalkahoitaja sairastui, käyntiä ei voitu tehdä."))
    for from_status, to_status, actor, at, said, note in steps:
        code, params = said or (None, None)
        d.add(ShopOrderEvent(shop_order_id=shop.id, at=at, actor_id=actor.id if actor else None,
                             from_status=from_status, to_status=to_status, note=note, code=code, params=params))


