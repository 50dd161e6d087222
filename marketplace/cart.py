"""The web shop's cart, kept in the signed session cookie: offering id, quantity and
the price shown when the service was put in the cart (the session's signature
means nobody can alter that price). At checkout the lines become
``pricing.CartItem``s; the price shown is honoured by ``pricing.price_items``.

A cart may hold services of several providers; each provider's services are
checked out as a purchase of their own.
"""

from __future__ import annotations

import time

from flask import session

from catalogue.quotes import QUOTE_MAX_AGE
from marketplace.pricing import MAX_CART_LINES, MAX_QUANTITY, CartItem

_KEY = "cart"


def lines() -> dict[str, dict]:
    """``{offering_id (str): {"q": quantity, "p": price shown (cents), "t": epoch}}``."""
    raw = session.get(_KEY)
    return raw if isinstance(raw, dict) else {}


def count() -> int:
    return sum(int(line.get("q", 0)) for line in lines().values())


def add(offering_id: int, quantity: int, price_cents: int) -> bool:
    """Add to a line (the price shown the first time is kept). False when the cart
    already has the most lines allowed."""
    cart = dict(lines())
    key = str(offering_id)
    if key not in cart and len(cart) >= MAX_CART_LINES:
        return False
    line = dict(cart.get(key) or {"q": 0, "p": price_cents, "t": int(time.time())})
    line["q"] = min(MAX_QUANTITY, int(line["q"]) + quantity)
    cart[key] = line
    session[_KEY] = cart
    return True


def set_quantity(offering_id: int, quantity: int) -> None:
    cart = dict(lines())
    key = str(offering_id)
    if key in cart:
        if quantity <= 0:
            cart.pop(key)
        else:
            cart[key] = dict(cart[key], q=min(MAX_QUANTITY, quantity))
        session[_KEY] = cart


def remove(offering_ids) -> None:
    cart = dict(lines())
    for offering_id in offering_ids:
        cart.pop(str(offering_id), None)
    session[_KEY] = cart


def items(offering_ids=None) -> list[CartItem]:
    """The cart (or some of its offerings) as priced input. A price shown more than
    two days ago is no longer honoured: the current price applies."""
    now = time.time()
    result = []
    for key, line in lines().items():
        if offering_ids is not None and int(key) not in offering_ids:
            continue
        fresh = now - float(line.get("t", 0)) <= QUOTE_MAX_AGE
        result.append(CartItem(offering_id=int(key), quantity=int(line["q"]),
                               shown_price_cents=int(line["p"]) if fresh and line.get("p") is not None else None))
    return result
