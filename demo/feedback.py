"""Feedback: the one-time link of every completed order and fulfilled purchase,
ratings and comments given through about half of them, provider responses, one
comment hidden by the administrator, and the providers' rating sums.

Links, responses, the hiding and the rating sums go through ``feedback.services``
(so every link's token is derivable, and staff can read it out as for a live
order); their timestamps are then moved back to when the order was completed. The
feedback itself is written as rows: it was given days or months ago, and
``submit_feedback`` stamps now and opens a follow-up due in two days, with an
e-mail, for every low rating."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app

from demo.base import Demo
from feedback.models import Feedback, FeedbackLink, FeedbackModerationEvent
from feedback.services import hide_feedback, issue_feedback_link, recount_ratings, respond_to_feedback

if TYPE_CHECKING:
    from demo.orders import _OrderPlan

FEEDBACK_COMMENT_SV = "Tack, allt fungerade mycket bra!"
FEEDBACK_COMMENTS = {
    5: ("Todella ystävällinen ja huolellinen työntekijä. Kiitos!", "Kaikki sujui erinomaisesti.",
        "Mukava, kun sama hoitaja käy aina."),
    4: ("Hyvää työtä, kerran tultiin puoli tuntia myöhässä.", "Olen tyytyväinen.", None),
    3: ("Ihan kelvollinen, mutta aikatauluista pitäisi sopia paremmin.", None),
    2: ("Työntekijä vaihtui joka kerta, eikä kukaan tiennyt mitä pitää tehdä.",),
    1: ("Palvelu ei vastannut sovittua.",),
}
PROVIDER_RESPONSES = (
    "Kiitos palautteesta! Välitämme kiitoksen työntekijälle.",
    "Pahoittelemme myöhästymistä. Olemme tarkentaneet reittisuunnittelua.",
    "Kiitos palautteesta. Pyrimme jatkossa siihen, että sama työntekijä käy aina.",
)


def issue_link(d: Demo, at: datetime, *, order_id: int | None = None, shop_order_id: int | None = None,
               language: str = "fi") -> FeedbackLink:
    """The one-time link of a completed order or a fulfilled purchase, issued by the
    feedback service at ``at`` (the completion: the service stamps now)."""
    link, _token = issue_feedback_link(order_id=order_id, shop_order_id=shop_order_id, language=language)
    link.created_at = at
    link.expires_at = at + timedelta(days=current_app.config["FEEDBACK_LINK_DAYS"])
    d.count("feedback_links")
    return link


def order_feedback(d: Demo, plan: _OrderPlan) -> None:
    """A one-time link for every completed order; feedback through some of them."""
    order, rng = plan.order, d.rng
    completed = plan.timeline.completed_at
    language = "sv" if plan.client.languages[0] == "sv" else "fi"
    link = issue_link(d, completed, order_id=order.id, language=language)
    if plan.feedback is None:
        return
    given = min(completed + timedelta(hours=rng.uniform(2, 96)), d.now - timedelta(minutes=20))
    if plan.timeline.closed_at is not None:
        given = min(given, plan.timeline.closed_at - timedelta(minutes=5))
    link.used_at = given
    comment = rng.choice(FEEDBACK_COMMENTS[plan.feedback])
    if language == "sv" and plan.feedback >= 4:
        comment = FEEDBACK_COMMENT_SV
    # A row, not submit_feedback: see the module's docstring.
    feedback = Feedback(link_id=link.id, provider_id=order.provider_id, order_id=order.id,
                        client_id=plan.client.id, service_type_id=order.service_type_id, rating=plan.feedback,
                        needs_met=plan.feedback >= 3, comment=comment, created_at=given)
    d.add(feedback)
    d.session.flush()
    if comment and rng.random() < 0.35:
        response = rng.choice(PROVIDER_RESPONSES)
        respond_to_feedback(feedback.id, response, d.provider_admins[order.provider_id])
        feedback.responded_at = min(given + timedelta(hours=rng.uniform(2, 30)), d.now - timedelta(minutes=5))
    d.feedback_rows.append(feedback)
    d.count("feedback")


def hide_one_feedback(d: Demo) -> None:
    """An administrator has hidden one comment that told about a worker's health."""
    candidates = [f for f in d.feedback_rows if f.comment and f.rating <= 3] or d.feedback_rows
    if not candidates:
        return
    feedback = candidates[-1]
    feedback.comment = "Hoitaja kertoi omista sairauksistaan koko käynnin ajan."
    d.session.flush()
    hide_feedback(feedback.id, "Sisältää työntekijän terveystietoja.", d.admin)
    # Hidden the day after it was given (the service stamps now).
    hidden_at = min(feedback.created_at + timedelta(days=1), d.now - timedelta(minutes=1))
    feedback.hidden_at = hidden_at
    event = d.session.scalar(
        sa.select(FeedbackModerationEvent).where(FeedbackModerationEvent.feedback_id == feedback.id))
    event.at = hidden_at


def update_ratings(d: Demo) -> None:
    """``Provider.rating_sum``/``rating_count`` from the published (not hidden) feedback."""
    recount_ratings()
