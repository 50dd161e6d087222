"""What the system writes on an order's timeline, as message codes
(``core.messages``): an ``OrderEvent`` stores ``code`` and ``params`` and the order
page shows the text in the reader's language. A person's own words (a reason for
cancelling or declining, the outcome note) stay in ``OrderEvent.note``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.messages import plural_text, register

OFFER_MODE_LABELS = {
    "single": _l("to one provider"), "broadcast": _l("to all at once"), "ranked": _l("one at a time, by rank"),
}

ORDER_EVENT_TEXTS = {
    "order.offered": plural_text("Offered to %(num)s provider (%(mode)s).",
                                 "Offered to %(num)s providers (%(mode)s)."),
    "order.first_visit": _l("The first visit was reported."),
    "order.visit_reported": _l("A visit was reported."),
    "order.visit_reported_concern": _l("A visit was reported with a concern."),
    "order.visit_missed": _l("A missed visit was reported."),
    "order.visit_missed_concern": _l("A missed visit was reported with a concern."),
    "order.no_provider_left": _l("Every provider declined or did not answer in time."),
    "order.provider_suspended": _l("The provider was suspended: staff were asked to arrange the service."),
    "offer.auto_accepted": _l("Accepted automatically by the provider's rule."),
    "offer.expired": _l("No answer by the deadline."),
    "offer.next_ranked": _l("Offered to the next provider on the ranked list."),
    "offer.provider_suspended": _l("The offer was withdrawn: the provider was suspended."),
}

for _code, _text in ORDER_EVENT_TEXTS.items():
    register(_code, _text, labels={"mode": OFFER_MODE_LABELS})
