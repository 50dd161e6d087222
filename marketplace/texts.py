"""What the system writes on a purchase's history, as message codes
(``core.messages``): a ``ShopOrderEvent`` stores ``code`` and ``params`` and the
purchase pages (the buyer's and the seller's) show the text in the reader's
language. What a person wrote (a delivery note, a reason for cancelling or
refunding) stays in ``ShopOrderEvent.note`` and is shown after the text.

Amounts are stored in cents (``amount``, ``old``, ``new``) and shown as money in
the reader's format; ``service`` is a service type's id, shown by its name in the
reader's language (a row migrated from a sentence holds the name as written)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from catalogue.models import ServiceType
from core.extensions import db
from core.messages import register
from core.templating import money


def _money(value):
    return money(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _service(value):
    if isinstance(value, int) and not isinstance(value, bool):
        service_type = db.session.get(ServiceType, value)
        return service_type.name() if service_type is not None else "–"
    return value


SHOP_EVENT_TEXTS = {
    "shop.time_confirmed": _l("Time confirmed: %(time)s"),
    "shop.invoice_paid": _l("Invoice paid."),
    "shop.card_paid": _l("Card payment received."),
    "shop.amount_mismatch": _l("The payment service reported a different amount; the purchase was not marked paid."),
    "shop.late_payment_refunded": _l("The payment arrived after the purchase was cancelled and was refunded in full."),
    "shop.payment_expired": _l("The payment time ran out; the purchase was released."),
    "shop.payment_not_completed": _l("The payment was not completed; the purchase was released."),
    "shop.refunded": _l("Refunded %(amount)s."),
    "shop.cancelled_refunded": _l("Cancelled; %(amount)s refunded."),
    "shop.refunded_by_service": _l("Refunded through the payment service; %(amount)s refunded in all."),
    "shop.price_rose": _l("The price of %(service)s had risen from %(old)s to %(new)s when the order was placed. "
                          "The order keeps the price shown, %(old)s."),
    "shop.price_dropped": _l("The price of %(service)s had dropped from %(old)s to %(new)s when the order was "
                             "placed. The new price, %(new)s, is charged."),
}

_LABELS = {"amount": _money, "old": _money, "new": _money, "service": _service}

for _code, _text in SHOP_EVENT_TEXTS.items():
    register(_code, _text, labels=_LABELS)
