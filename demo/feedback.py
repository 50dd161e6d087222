"""Feedback: the one-time link of every completed order and fulfilled purchase,
ratings and comments given through about half of them, provider responses, one
comment hidden by the administrator, and the providers' rating sums."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from demo.base import FEEDBACK_LINK_DAYS, Demo, random_token_hash
from feedback.models import Feedback, FeedbackLink, FeedbackModerationEvent
from feedback.services import link_token
from feedback.services import token_hash as feedback_token_hash

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



def derive_link_token(d: Demo, link: FeedbackLink) -> None:
    """Give a link the token the feedback service derives, so staff can read it out."""
    d.session.flush()
    link.token_hash = feedback_token_hash(link_token(link))


def order_feedback(d: Demo, plan: _OrderPlan) -> None:
    """A one-time link for every completed order; feedback through some of them."""
    order, rng = plan.order, d.rng
    completed = plan.timeline.completed_at
    language = "sv" if plan.client.languages[0] == "sv" else "fi"
    link = FeedbackLink(token_hash=random_token_hash(), order_id=order.id, provider_id=order.provider_id,
                        client_id=plan.client.id, language=language, created_at=completed,
                        expires_at=completed + timedelta(days=FEEDBACK_LINK_DAYS))
    d.add(link)
    derive_link_token(d, link)
    d.count("feedback_links")
    if plan.feedback is None:
        return
    given = min(completed + timedelta(hours=rng.uniform(2, 96)), d.now - timedelta(minutes=20))
    if plan.timeline.closed_at is not None:
        given = min(given, plan.timeline.closed_at - timedelta(minutes=5))
    link.used_at = given
    d.session.flush()
    comment = rng.choice(FEEDBACK_COMMENTS[plan.feedback])
    if language == "sv" and plan.feedback >= 4:
        comment = FEEDBACK_COMMENT_SV
    feedback = Feedback(link_id=link.id, provider_id=order.provider_id, order_id=order.id,
                        client_id=plan.client.id, service_type_id=order.service_type_id, rating=plan.feedback,
                        needs_met=plan.feedback >= 3, comment=comment, created_at=given)
    if comment and rng.random() < 0.35:
        feedback.response = rng.choice(PROVIDER_RESPONSES)
        feedback.responded_at = given + timedelta(hours=rng.uniform(2, 30))
        feedback.responded_by_id = d.provider_admins[order.provider_id].id
        if feedback.responded_at > d.now:
            feedback.responded_at = d.now - timedelta(minutes=5)
    d.add(feedback)
    d.feedback_rows.append(feedback)
    d.count("feedback")


def hide_one_feedback(d: Demo) -> None:
    """An administrator has hidden one comment that told about a worker's health."""
    candidates = [f for f in d.feedback_rows if f.comment and f.rating <= 3] or d.feedback_rows
    if not candidates:
        return
    feedback = candidates[-1]
    feedback.comment = "Hoitaja kertoi omista sairauksistaan koko käynnin ajan."
    feedback.hidden_at = min(feedback.created_at + timedelta(days=1), d.now - timedelta(minutes=1))
    feedback.hidden_by_id = d.admin.id
    feedback.hidden_reason = "Sisältää työntekijän terveystietoja."
    d.session.flush()
    d.add(FeedbackModerationEvent(feedback_id=feedback.id, action="hide", reason=feedback.hidden_reason,
                                     actor_id=d.admin.id, at=feedback.hidden_at))


def update_ratings(d: Demo) -> None:
    """``Provider.rating_sum``/``rating_count`` from the published (not hidden) feedback."""
    for provider in d.providers.values():
        provider.rating_sum, provider.rating_count = 0, 0
    for feedback in d.feedback_rows:
        if feedback.hidden_at is None:
            d.provider_by_id[feedback.provider_id].rating_sum += feedback.rating
            d.provider_by_id[feedback.provider_id].rating_count += 1


