"""Service orders: about 80 orders in every state of the order lifecycle, each with
its offers, events, visit reports, follow-ups, voucher and (once completed) its
feedback link.

Every step goes through ``orders.services`` as staff and providers would take it,
and is then moved back to when it happened in the story (``_backdate``: the
services stamp the current time, the story spans months):

- an order still offered, escalated or accepted (its start date is ahead) is placed
  with ``place_order`` and answered with ``decline_offer``, ``expire_offer``,
  ``reoffer_order`` and ``accept_offer`` (see ``_place``);
- an order that has started, ended or was cancelled may have a start date in the
  past, which ``place_order`` refuses: its offers and events up to the acceptance
  (or up to the state it was cancelled in) are written as rows
  (``_order_history``), mirroring what the services write (numbers from the row id,
  offer ranks by position, the same event actions and notes, the access-log row of
  the placing); from there on it goes through ``record_visit``,
  ``complete_order``, ``close_order`` and ``cancel_order``.

The feedback link of a completed order is issued through ``feedback.services``
(``demo.feedback``). The e-mails the services queue for these past steps are
dropped; the deadline checks of open offers stay.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from accounts.models import User
from clients.models import Client, Concern, FollowUp, FollowUpKind, Urgency
from core.access import Purpose
from core.models import AccessLogEntry, OutboxJob
from core.time import local_date
from demo import feedback, providers
from demo.base import OFFER_DEADLINE, Demo, number
from demo.catalogue import ServiceSpec
from demo.clients import FIXED_CLIENTS
from orders.models import (
    Funding,
    Offer,
    OfferMode,
    OfferStatus,
    OrderEvent,
    OrderStatus,
    Outcome,
    ServiceOrder,
    VisitReport,
)
from vouchers.models import ServiceVoucher
from orders.services import (
    accept_offer,
    cancel_order,
    close_order,
    complete_order,
    decline_offer,
    expire_offer,
    place_order,
    record_visit,
    reoffer_order,
)
from clients.concerns import acknowledge_by, ack_hours, escalate_overdue_concerns
from clients.signals import CONCERN as CONCERN_SIGNAL, note_signal
from orders import policy as order_policy
from providers.models import Provider

INSTRUCTIONS = (
    "Asiakas kuulee huonosti: soita ovikelloa pitkään ja odota hetki.",
    "Avain on avainsäilössä, koodi kerrotaan tilauksen hyväksyneelle.",
    "Kotona on kissa, joka ei saa päästä ulos.",
    "Asiakas liikkuu rollaattorilla, varaa aikaa.",
    "Toivotaan samaa työntekijää joka kerta.",
    "Rappukäytävän ovessa summeri, asunto 3. kerroksessa, hissi on.",
    "",
    "",
)
VISIT_NOTES = (None, None, None, "Kaikki hyvin.", "Asiakas hyvällä tuulella, juteltiin pitkään.",
               "Sovittiin seuraavasta käynnistä.", "Asiakas toivoi ensi kerralla myös ikkunoiden pyyhintää.")
CONCERN_NOTES = (
    "Asiakas oli kaatunut eteisessä viime viikolla, mustelmia käsivarressa. Ei halunnut lääkäriin.",
    "Jääkaapissa paljon vanhentunutta ruokaa ja asiakas vaikuttaa laihtuneen.",
    "Asiakas oli sekava eikä muistanut sovittua käyntiä. Lääkedosetti oli koskematon.",
    "Asunnossa kylmä, patterit eivät lämpene. Asiakas ei ollut ilmoittanut isännöitsijälle.",
)
DECLINE_REASONS = (
    "Ei vapaata kapasiteettia toivotulla aikataululla.",
    "Alue on liian kaukana työntekijöidemme reiteiltä.",
    "Emme pysty takaamaan samaa työntekijää joka kerta.",
    "Toivottu kieli ei onnistu tällä viikolla.",
)
COMPLETION_REASONS = (
    "Asiakas siirtyi tehostettuun palveluasumiseen.",
    "Asiakas toipui, eikä tarvitse palvelua enää.",
    "Omainen hoitaa jatkossa, sovittu asiakkaan kanssa.",
)
CANCEL_REASONS = (
    "Asiakas muutti tehostettuun palveluasumiseen.",
    "Asiakas joutui sairaalaan, palvelu tilataan uudelleen kotiutuessa.",
    "Omainen hoitaa asian itse, asiakas perui.",
    "Tilaus tehtiin väärälle palvelulle, tilalle uusi tilaus.",
    "Palvelua ei enää tarvita: kotikuntoutusjakso päättyi.",
)
NOT_RECEIVED_NOTES = (
    "Asiakas ei avannut ovea kolmella käynnillä. Sovittu kotikäynti vastuutyöntekijän kanssa.",
    "Ateriat eivät sopineet asiakkaan ruokavalioon, palvelu keskeytyi. Etsitään toinen tuottaja.",
    "Palveluntuottaja ei löytänyt sopivaa aikaa, asiakas jäi ilman palvelua kahdeksi viikoksi.",
)

# How many orders end up in each state (about 80 in all).
ORDER_MIX = {
    OrderStatus.OFFERED: 12, OrderStatus.ESCALATED: 6, OrderStatus.ACCEPTED: 10, OrderStatus.IN_PROGRESS: 14,
    OrderStatus.COMPLETED: 10, OrderStatus.CLOSED: 20, OrderStatus.CANCELLED: 8,
}
# Orders the demo logins should see: (client index or None = any, service, status, winner slug, extras).
FEATURED_ORDERS = [
    (0, "yllapitosiivous", OrderStatus.IN_PROGRESS, "kirkaskoti", {}),
    (0, "ateriakuljetus", OrderStatus.COMPLETED, "pirkanateria", {}),
    (0, "ikkunanpesu", OrderStatus.CLOSED, "kirkaskoti", {"feedback": 5}),
    (0, "ulkoiluapu", OrderStatus.OFFERED, None, {}),
    (0, "turvapuhelin", OrderStatus.ACCEPTED, "turvaverkko", {}),
    (1, "kauppa-asiointi", OrderStatus.IN_PROGRESS, "svenskaseniorer", {}),
    (1, "fysioterapia", OrderStatus.CLOSED, "aaltohyvinvointi", {"feedback": 4}),
    (2, "kotihoito", OrderStatus.IN_PROGRESS, "hyvaarki", {"concern": True}),
    (2, "turvapuhelin", OrderStatus.CLOSED, "turvaverkko", {}),
    (2, "saunotus", OrderStatus.OFFERED, None, {"mode": OfferMode.SINGLE, "to": "hyvaarki"}),
    (None, "kotihoito", OrderStatus.OFFERED, None, {"mode": OfferMode.BROADCAST, "min_providers": 3}),
    (None, "yllapitosiivous", OrderStatus.OFFERED, None, {"mode": OfferMode.BROADCAST, "min_providers": 2}),
    (None, "kotihoito", OrderStatus.ACCEPTED, "hyvaarki", {}),
    (None, "yllapitosiivous", OrderStatus.ACCEPTED, None, {"reoffer": True}),
    (None, "pienkorjaukset", OrderStatus.ESCALATED, None, {}),
    (None, "saunotus", OrderStatus.COMPLETED, "hyvaarki", {"concern": True}),
    (None, "kotihoito", OrderStatus.OFFERED, None, {"mode": OfferMode.RANKED}),
    (None, "ateriakuljetus", OrderStatus.IN_PROGRESS, None, {"mode": OfferMode.RANKED}),
    (None, "kauppa-asiointi", OrderStatus.CLOSED, None, {"mode": OfferMode.RANKED}),
    (None, "yllapitosiivous", OrderStatus.ESCALATED, None, {"mode": OfferMode.RANKED}),
    (None, "kotihoito", OrderStatus.COMPLETED, None, {"mode": OfferMode.RANKED}),
    (None, "ateriakuljetus", OrderStatus.CANCELLED, None, {"mode": OfferMode.RANKED}),
]
TAKEN_STATES = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED, OrderStatus.CLOSED)
VOUCHER_SERVICES = {"yllapitosiivous", "kotihoito", "ateriakuljetus", "saunotus", "kauppa-asiointi",
                    "omaishoidon-vapaa"}


@dataclass
class _Timeline:
    """When things happened to one order (all aware UTC, dates local)."""

    created_at: datetime
    start_date: date
    end_date: date | None = None
    accepted_at: datetime | None = None
    escalated_at: datetime | None = None
    reoffered_at: datetime | None = None
    visits: list[datetime] = field(default_factory=list)  # local visit start times, as UTC
    completed_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass
class _OrderPlan:
    """What one order's story is to be; ``build_orders`` turns it into rows."""

    client: Client
    spec: ServiceSpec
    category: str
    status: str
    prior: str            # the state the order was in when cancelled (else = status)
    mode: str
    funding: str
    recipients: list[Provider]   # offers, in the order they were made
    winner: Provider | None
    reoffer_to: Provider | None = None   # escalated first, then re-offered to this provider
    concern: bool = False
    feedback: int | None = None          # the rating given, if any
    choices: int = 1                     # how many providers could have served it
    per_week: int | None = None
    minutes: int | None = None
    cancelled_at: datetime | None = None
    timeline: _Timeline | None = None
    order: ServiceOrder | None = None
    offers: list[Offer] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    placed: bool = False                 # placed through orders.services (see _place)



def _plan(d: Demo, client: Client, slug: str, status: str, winner_slug: str | None,
          extras: dict) -> _OrderPlan | None:
    """Choose recipients, offer mode, winner and funding for an order, or None when
    the client's area and languages do not fit the wish."""
    rng = d.rng
    eligible = providers.eligible(d, slug, client.postal_code, client.languages)
    if len(eligible) < extras.get("min_providers", 1) or (extras.get("reoffer") and len(eligible) < 2):
        return None
    prior = status
    if status == OrderStatus.CANCELLED:
        prior = rng.choice((OrderStatus.OFFERED, OrderStatus.ESCALATED, OrderStatus.ACCEPTED,
                            OrderStatus.IN_PROGRESS))
    if prior == OrderStatus.IN_PROGRESS and d.specs[slug].one_off:
        return None  # a one-off job is completed after its visit, it does not stay running
    winner = None
    if prior in TAKEN_STATES:
        winner = d.providers[winner_slug] if winner_slug else rng.choice(eligible)
        if winner not in eligible:
            return None
    ranking = [p for p in d.rankings.get((slug, client.postal_code), []) if p in eligible]
    mode = extras.get("mode")
    if mode == OfferMode.RANKED and not ranking:
        return None
    if mode is None:
        if ranking and rng.random() < 0.6:
            mode = OfferMode.RANKED
        elif len(eligible) >= 2 and rng.random() < 0.6:
            mode = OfferMode.BROADCAST
        else:
            mode = OfferMode.SINGLE
    reoffer_to = None
    if extras.get("reoffer"):
        # first a single offer to someone else, who never answered
        mode, reoffer_to = OfferMode.SINGLE, winner
        recipients = [rng.choice([p for p in eligible if p is not winner])]
    elif extras.get("to"):
        recipients = [d.providers[extras["to"]]]
        if recipients[0] not in eligible:
            return None
    elif mode == OfferMode.RANKED and ranking:
        recipients = list(ranking)
        if winner is not None and recipients.index(winner) > 1:
            recipients.remove(winner)  # keep it plausible: the winner was first or second in line
            recipients.insert(1, winner)
    elif mode == OfferMode.SINGLE:
        recipients = [winner or rng.choice(eligible)]
    else:
        mode = OfferMode.BROADCAST
        recipients = rng.sample(eligible, min(len(eligible), 4))
        if winner is not None and winner not in recipients:
            recipients[-1] = winner
    spec = d.specs[slug]
    funding, roll = Funding.MUNICIPALITY, rng.random()
    if slug in VOUCHER_SERVICES and roll < 0.35:
        funding = Funding.VOUCHER
    elif spec.self_paid and roll > 0.92:
        funding = Funding.SELF_PAID
    plan = _OrderPlan(client=client, spec=spec, category=d.category_of[slug], status=status, prior=prior,
                      mode=mode, funding=funding, recipients=recipients, winner=winner, reoffer_to=reoffer_to,
                      concern=extras.get("concern", False), feedback=extras.get("feedback"),
                      choices=len(eligible))
    plan.per_week, plan.minutes = _rhythm(d, spec, plan.category)
    return plan


def _rhythm(d: Demo, spec: ServiceSpec, category: str) -> tuple[int | None, int | None]:
    """Visits per week and minutes per visit (None for one-off services)."""
    if spec.one_off:
        return None, None
    if category == "ateriat" and spec.unit == "item":
        return 5, 15
    if category == "hoiva" or spec.slug == "aamu-ja-iltatoimet":
        return d.rng.choice((3, 5, 7)), d.rng.choice((30, 45, 60))
    return d.rng.choice((1, 1, 2)), d.rng.choice((60, 90, 120))


def plan_orders(d: Demo) -> list[_OrderPlan]:
    """The featured orders first, then random ones until ORDER_MIX is reached;
    returned in the order they were placed."""
    plans: list[_OrderPlan] = []
    remaining = dict(ORDER_MIX)
    used = {client for client in d.clients[:len(FIXED_CLIENTS)]}
    for index, slug, status, winner, extras in FEATURED_ORDERS:
        candidates = [d.clients[index]] if index is not None else [
            c for c in d.clients if c not in used and c.consent_to_share]
        for client in candidates:
            plan = _plan(d, client, slug, status, winner, extras)
            if plan:
                used.add(client)
                plans.append(plan)
                remaining[status] -= 1
                break
        else:
            raise RuntimeError(f"demo data: nobody can get the featured order {slug} ({status})")
    clients = [c for c in d.clients if c.consent_to_share]
    slugs = list(d.specs)
    concerns_left = 4
    for status, left in remaining.items():
        while left:
            plan = _plan(d, d.rng.choice(clients), d.rng.choice(slugs), status, None, {})
            if plan is None or (plan.choices == 1 and d.rng.random() < 0.6):
                continue  # prefer services with competition: offers and rankings show better
            if status in (OrderStatus.IN_PROGRESS, OrderStatus.CLOSED) and concerns_left \
                    and d.rng.random() < 0.25:
                plan.concern, concerns_left = True, concerns_left - 1
            if status in (OrderStatus.COMPLETED, OrderStatus.CLOSED) and plan.feedback is None \
                    and d.rng.random() < (0.5 if status == OrderStatus.COMPLETED else 0.7):
                plan.feedback = d.rng.choices((5, 4, 3, 2, 1), weights=(45, 35, 12, 6, 2))[0]
            plans.append(plan)
            left -= 1
    for plan in plans:
        until = d.now
        if plan.status == OrderStatus.CANCELLED:
            plan.cancelled_at = until = d.ago(days=d.rng.uniform(0.5, 40))
        plan.timeline = _timeline(d, plan, until)
    plans.sort(key=lambda p: p.timeline.created_at)
    return plans


def _visit_days(first: date, per_week: int, count: int) -> list[date]:
    """``count`` visit days from ``first`` on, ``per_week`` a week, evenly spread."""
    offsets = [round(i * 7 / per_week) for i in range(per_week)]
    days: list[date] = []
    week = 0
    while len(days) < count:
        days.extend(first + timedelta(days=week * 7 + offset) for offset in offsets)
        week += 1
    return days[:count]


def _timeline(d: Demo, plan: _OrderPlan, until: datetime) -> _Timeline:
    """Timestamps of an order that reached ``plan.prior`` before ``until`` (now, or
    the moment it was cancelled). Offers go out when the order is placed; a provider
    answers within the 24-hour deadline; visits start after acceptance."""
    rng, state = d.rng, plan.prior
    until_day = local_date(until)
    if state == OrderStatus.OFFERED:
        created = until - timedelta(hours=rng.uniform(1, 20))
        return _Timeline(created_at=created, start_date=until_day + timedelta(days=rng.randrange(3, 15)))
    if state == OrderStatus.ESCALATED:
        created = until - timedelta(days=rng.uniform(1.6, 5))
        return _Timeline(created_at=created, start_date=until_day + timedelta(days=rng.randrange(1, 10)))
    if state == OrderStatus.ACCEPTED:
        start = until_day + timedelta(days=rng.randrange(1, 15))
        if plan.reoffer_to is not None:
            created = until - timedelta(days=rng.uniform(2.5, 6))
            escalated = created + OFFER_DEADLINE + timedelta(minutes=rng.randrange(2, 15))
            reoffered = escalated + timedelta(hours=rng.uniform(0.5, 3))
            return _Timeline(created_at=created, start_date=start, escalated_at=escalated,
                             reoffered_at=reoffered, accepted_at=reoffered + timedelta(hours=rng.uniform(0.5, 5)))
        created = until - timedelta(days=rng.uniform(0.5, 6))
        hours = min(20.0, (until - created).total_seconds() / 3600 * 0.8)
        return _Timeline(created_at=created, start_date=start,
                         accepted_at=created + timedelta(hours=rng.uniform(0.3, hours)))
    # In progress, completed or closed: the visits decide the dates.
    per_week = plan.per_week or 1
    if state == OrderStatus.IN_PROGRESS:
        first = until_day - timedelta(days=rng.randrange(1, 35))
        count = 1 if plan.spec.one_off else 10
        starts = [d.local(day, rng.uniform(8, 14)) for day in _visit_days(first, per_week, count)]
        # a report is written within about four hours of the visit's start
        visits = [v for v in starts if v < until - timedelta(hours=4)] or [d.local(first, 8)]
        end = first if plan.spec.one_off else first + timedelta(days=rng.choice((90, 180)))
    else:
        gap = rng.randrange(1, 7) if state == OrderStatus.COMPLETED else rng.randrange(8, 150)
        last = until_day - timedelta(days=gap)
        count = 1 if plan.spec.one_off else rng.randrange(3, 10)
        days = [last - (day - last) for day in _visit_days(last, per_week, count)][::-1]
        first, end = days[0], last
        visits = [d.local(day, rng.uniform(8, 14)) for day in days]
    accepted = d.local(first - timedelta(days=rng.randrange(2, 8)), rng.uniform(8, 15.5))
    timeline = _Timeline(created_at=accepted - timedelta(hours=rng.uniform(1, 20)), accepted_at=accepted,
                         start_date=first, end_date=end, visits=visits)
    if state in (OrderStatus.COMPLETED, OrderStatus.CLOSED):
        timeline.completed_at = visits[-1] + timedelta(hours=rng.uniform(4, 30))
        timeline.completed_at = min(timeline.completed_at, max(visits[-1] + timedelta(hours=4),
                                                               until - timedelta(hours=1)))
    if state == OrderStatus.CLOSED:
        timeline.closed_at = timeline.completed_at + timedelta(days=rng.uniform(0.2, 6))
    return timeline


def build_orders(d: Demo) -> None:
    """Orders in the order they were placed (so numbers grow with time), then
    their offers, events, visit reports, follow-ups and feedback."""
    d.plans = plan_orders(d)
    jobs_before = d.session.scalar(sa.select(sa.func.max(OutboxJob.id))) or 0
    for plan in d.plans:
        tl, spec = plan.timeline, plan.spec
        voucher = _voucher(d, plan) if plan.funding == Funding.VOUCHER else None
        instructions = d.rng.choice(INSTRUCTIONS)
        if plan.status in THROUGH_SERVICES:
            _place(d, plan, instructions, voucher)
            continue
        plan.order = ServiceOrder(
            number=f"tmp-{secrets.token_hex(8)}", client_id=plan.client.id,
            service_type_id=d.services[spec.slug].id, ordered_by_id=plan.client.responsible_worker_id,
            # the services move it on from its acceptance (or the state it was cancelled in)
            status=plan.prior if plan.prior in THROUGH_SERVICES else OrderStatus.ACCEPTED,
            funding=plan.funding, offer_mode=plan.mode,
            voucher_id=voucher.id if voucher else None,
            instructions=instructions, start_date=tl.start_date, end_date=tl.end_date,
            visits_per_week=plan.per_week, minutes_per_visit=plan.minutes, created_at=tl.created_at,
            offered_at=tl.reoffered_at or tl.created_at)
        d.add(plan.order)
    d.session.flush()
    for plan in d.plans:
        if plan.placed:
            _answer_placed(d, plan)
        else:
            plan.order.number = number("SO", plan.timeline.created_at, plan.order.id)
            _order_history(d, plan)
        d.count("orders")
    _signals_and_escalations(d)
    # The services queued the e-mails of every step (new offers, declines,
    # escalations, acceptances). The story happened hours to days ago, so those
    # e-mails are not sent now; the deadline checks stay, and keep the offered orders
    # moving once the worker runs.
    d.session.execute(sa.delete(OutboxJob).where(OutboxJob.id > jobs_before, OutboxJob.queue == "mail"))
    d.session.flush()


# -- orders that have not started yet: through orders.services
#
# An order that is offered, escalated or accepted (and not cancelled) has its start
# date ahead: it is placed with place_order (offers, deadlines, the access-log row,
# the providers' notifications and the deadline jobs are what the live service
# makes), its offers are declined with decline_offer and expired with expire_offer
# (which pass a ranked order on to the next provider and escalate it when nobody is
# left), an escalated one is offered again with reoffer_order, and the winner
# accepts with accept_offer (which withdraws the other offers). Each step is then
# moved back to when it happened in the story, because the services stamp the
# current time. The others: see the module's docstring.

THROUGH_SERVICES = (OrderStatus.OFFERED, OrderStatus.ESCALATED, OrderStatus.ACCEPTED)


def _place(d: Demo, plan: _OrderPlan, instructions: str, voucher: ServiceVoucher | None) -> None:
    """Place an order through the service, to the planned providers."""
    tl = plan.timeline
    staff = d.staff_by_id[plan.client.responsible_worker_id]
    plan.order = place_order(
        staff, client_id=plan.client.id, service_type_id=d.services[plan.spec.slug].id, start_date=tl.start_date,
        end_date=tl.end_date, visits_per_week=plan.per_week, minutes_per_visit=plan.minutes,
        instructions=instructions, funding=plan.funding, provider_ids=[p.id for p in plan.recipients],
        mode=plan.mode)
    if voucher is not None:
        plan.order.voucher_id = voucher.id  # linked as it was then (the story's voucher may since have ended)
    plan.placed = True
    plan.order.created_at = tl.created_at
    _backdate(d, plan, tl.created_at)
    d.count("access_log")


def _answers(d: Demo, plan: _OrderPlan) -> list[tuple[datetime, str, Provider, str | None]]:
    """The providers' answers before the order reached its state, as (when, "decline"
    or "expire", provider, reason). The random draws are those the row builders
    (``_parallel_offers``, ``_ranked_offers``, ``_reoffered``) make for the same
    story, so the set does not depend on which path wrote an order."""
    tl, rng, state, recipients = plan.timeline, d.rng, plan.prior, plan.recipients
    sent, answers = tl.created_at, []

    def decline(provider: Provider, answered: datetime) -> None:
        answers.append((answered, "decline", provider, rng.choice(DECLINE_REASONS)))

    def expire(provider: Provider) -> None:  # the deadline job, a few minutes after the deadline
        answers.append((sent + OFFER_DEADLINE + timedelta(minutes=rng.randrange(1, 6)), "expire", provider, None))

    if plan.reoffer_to is not None:
        for provider in recipients:
            expire(provider)
    elif plan.mode == OfferMode.RANKED:
        if state == OrderStatus.ACCEPTED:
            current, stop = recipients.index(plan.winner), tl.accepted_at
        elif state == OrderStatus.OFFERED:
            current, stop = (rng.choice((0, 0, 1)) if len(recipients) > 1 else 0), d.now
        else:  # escalated: everybody declined in turn
            current, stop = len(recipients), tl.created_at + timedelta(hours=30)
        step = (stop - sent) / (current + 1)
        for provider in recipients[:current]:
            answered = sent + min(step * rng.uniform(0.3, 0.9), timedelta(hours=20))
            decline(provider, answered)
            sent = answered
    elif state == OrderStatus.OFFERED:
        for i, provider in enumerate(recipients):
            if i > 0 and rng.random() < 0.3:
                decline(provider, sent + (d.now - sent) * rng.uniform(0.1, 0.8))
    elif state == OrderStatus.ESCALATED:
        for provider in recipients:
            if rng.random() < 0.5:
                decline(provider, sent + timedelta(hours=rng.uniform(0.5, 20)))
            else:
                expire(provider)
    else:  # accepted: some declined before the winner accepted
        for provider in recipients:
            if provider is not plan.winner and rng.random() < 0.4:
                decline(provider, sent + (tl.accepted_at - sent) * rng.uniform(0.1, 0.9))
    return sorted(answers, key=lambda answer: answer[0])


def _answer_placed(d: Demo, plan: _OrderPlan) -> None:
    """Answers, escalation, re-offer and acceptance of a placed order, in time order."""
    order, tl = plan.order, plan.timeline
    for at, kind, provider, reason in _answers(d, plan):
        if kind == "decline":
            decline_offer(d.provider_admins[provider.id], order.id, reason)
        else:
            expire_offer(d.session.scalar(sa.select(Offer.id).where(
                Offer.order_id == order.id, Offer.provider_id == provider.id)))
        _backdate(d, plan, at)
    if plan.reoffer_to is not None:
        reoffer_order(d.staff_by_id[order.ordered_by_id], order.id, provider_ids=[plan.reoffer_to.id],
                      mode=OfferMode.SINGLE)
        _backdate(d, plan, tl.reoffered_at)
    if plan.prior == OrderStatus.ACCEPTED:
        accept_offer(d.provider_admins[plan.winner.id], order.id)
        _backdate(d, plan, tl.accepted_at)
    if order.status != plan.status:
        raise RuntimeError(f"demo data: {order.number} ended {order.status}, not {plan.status}")
    offers = d.session.scalar(sa.select(sa.func.count()).select_from(Offer).where(Offer.order_id == order.id))
    d.count("offers", offers)
    events = d.session.scalars(sa.select(OrderEvent.at).where(OrderEvent.order_id == order.id)).all()
    d.count("order_events", len(events))
    d.touch(plan.client, max(events))


def _backdate(d: Demo, plan: _OrderPlan, at: datetime) -> None:
    """Move what a service just stamped (anything at or after the moment the demo
    started loading) back to ``at``: the order's state stamps, its events, offers
    sent or answered (with their 24-hour deadlines), visit reports and follow-ups.
    The access-log row of the placing keeps the moment the demo was loaded: the log
    is append-only, by design nothing can move it."""
    d.session.flush()
    order = plan.order
    d.session.refresh(order)
    for name in ("offered_at", "accepted_at", "escalated_at", "in_progress_at", "completed_at", "closed_at",
                 "cancelled_at"):
        if _stamped(d, getattr(order, name)):
            setattr(order, name, at)
    for event in _rows_of(d, OrderEvent, order.id):
        if _stamped(d, event.at):
            event.at = at
    for offer in _rows_of(d, Offer, order.id):
        if _stamped(d, offer.sent_at):
            offer.sent_at, offer.deadline_at = at, at + OFFER_DEADLINE
        if _stamped(d, offer.answered_at):
            offer.answered_at = at
    for visit in _rows_of(d, VisitReport, order.id):
        if _stamped(d, visit.created_at):
            visit.created_at = at
    for follow in _rows_of(d, FollowUp, order.id):
        if _stamped(d, follow.created_at):
            follow.created_at = follow.due_at = at
    for concern in _rows_of(d, Concern, order.id):
        if _stamped(d, concern.created_at):
            concern.created_at = at
    d.session.flush()


def _stamped(d: Demo, value: datetime | None) -> bool:
    """Stamped by a service during this load (the story itself is all earlier)."""
    return value is not None and value >= d.now


def _rows_of(d: Demo, model, order_id: int) -> list:
    """The order's rows of ``model`` as the database has them now (the services
    change some with bulk UPDATEs that the session does not see)."""
    rows = d.session.scalars(sa.select(model).where(model.order_id == order_id)).all()
    for row in rows:
        d.session.refresh(row)
    return rows


def _voucher(d: Demo, plan: _OrderPlan) -> ServiceVoucher:
    """The client's service voucher for the service, granted just before the order."""
    key = (plan.client.id, plan.spec.slug)
    if key not in d.vouchers:
        unit = "hour" if plan.spec.unit == "hour" else "visit"
        valid_from = min(plan.timeline.start_date, plan.timeline.created_at.date()) - timedelta(days=3)
        voucher = ServiceVoucher(
            client_id=plan.client.id, service_type_id=d.services[plan.spec.slug].id, unit=unit,
            monthly_amount=d.rng.choice((4, 6, 8)) * 60 if unit == "hour" else 20,
            value_cents_per_unit=int((plan.spec.price or 3000) * 0.85), renews=True, status="open",
            valid_from=valid_from, valid_to=valid_from + timedelta(days=365),
            granted_by_id=plan.client.responsible_worker_id,
            created_at=plan.timeline.created_at - timedelta(days=3))
        d.add(voucher)
        d.session.flush()
        d.vouchers[key] = voucher
        d.count("service_vouchers")
    return d.vouchers[key]


def _event(d: Demo, plan: _OrderPlan, at: datetime, action: str, from_status: str | None, to_status: str,
           actor: User | None = None, provider: Provider | None = None, note: str | None = None,
           code: str | None = None, params: dict | None = None) -> None:
    """Remember a timeline entry; ``_order_history`` writes them in time order.
    Entries that change nothing (decline, expire, offer, visit) have from = to.
    ``note``: a person's words; ``code``/``params``: what the system says (orders.texts)."""
    plan.events.append(OrderEvent(order_id=plan.order.id, at=at, actor_id=actor.id if actor else None,
                                  provider_id=provider.id if provider else None, action=action,
                                  from_status=from_status, to_status=to_status, note=note, code=code,
                                  params=(params or {}) if code else None))


def _offer(d: Demo, plan: _OrderPlan, provider: Provider, status: str, sent: datetime | None,
           answered: datetime | None = None) -> None:
    """One offer; a decline or expiry also goes on the timeline."""
    reason = d.rng.choice(DECLINE_REASONS) if status == OfferStatus.DECLINED else None
    if status == OfferStatus.EXPIRED:
        answered = sent + OFFER_DEADLINE + timedelta(minutes=d.rng.randrange(1, 6))  # the deadline sweep
    answered_by = d.provider_admins[provider.id] if status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED) \
        else None
    offer = Offer(order_id=plan.order.id, provider_id=provider.id, status=status,
                  rank=len(plan.offers) + 1, sent_at=sent, deadline_at=sent + OFFER_DEADLINE if sent else None,
                  answered_at=answered, answered_by_id=answered_by.id if answered_by else None,
                  decline_reason=reason)
    d.add(offer)
    plan.offers.append(offer)
    d.count("offers")
    if status == OfferStatus.DECLINED:
        _event(d, plan, answered, "decline", OrderStatus.OFFERED, OrderStatus.OFFERED, actor=answered_by,
               provider=provider, note=reason)
    elif status == OfferStatus.EXPIRED:
        _event(d, plan, answered, "expire", OrderStatus.OFFERED, OrderStatus.OFFERED, provider=provider,
               code="offer.expired")


def _order_history(d: Demo, plan: _OrderPlan) -> None:
    """Offers, transitions, visits and the closing of one order."""
    order, tl, rng = plan.order, plan.timeline, d.rng
    staff = d.staff_by_id[order.ordered_by_id]
    state = plan.prior
    first_round = 1 if plan.mode == OfferMode.RANKED else len(plan.recipients)
    _event(d, plan, tl.created_at, "create", None, OrderStatus.OFFERED, actor=staff,
           code="order.offered", params={"mode": str(plan.mode), "num": first_round})
    d.add(AccessLogEntry(at=tl.created_at, actor_id=staff.id, actor_role=staff.role, client_id=plan.client.id,
                         action="order", what="service order", purpose=Purpose.ORDERING, channel="web"))
    d.count("access_log")
    if plan.reoffer_to is not None:
        _reoffered(d, plan, staff)
    elif plan.mode == OfferMode.RANKED:
        _ranked_offers(d, plan)
    else:
        _parallel_offers(d, plan)
    plan.events.sort(key=lambda e: e.at)  # stable: same-moment entries keep their order
    d.add(*plan.events)
    d.session.flush()
    # From the acceptance on, through the services (each step moved back to its time):
    # visits, completion, the feedback link, closing, cancelling.
    if state in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED, OrderStatus.CLOSED):
        _visits(d, plan)
    if state in (OrderStatus.COMPLETED, OrderStatus.CLOSED):
        # Completing is for the organisation's administrators (its default setting);
        # an order with no end date (or visits still planned) needs the reason it ends.
        complete_order(d.provider_admins[order.provider_id], order.id,
                       rng.choice(COMPLETION_REASONS) if order_policy.is_ongoing(order) else None)
        _backdate(d, plan, tl.completed_at)
        feedback.order_feedback(d, plan)
    if state == OrderStatus.CLOSED:
        _close(d, plan, staff)
    if plan.status == OrderStatus.CANCELLED:
        cancel_order(staff, order.id, rng.choice(CANCEL_REASONS))  # also withdraws the open offers
        _backdate(d, plan, plan.cancelled_at)
    if order.status != plan.status:
        raise RuntimeError(f"demo data: {order.number} ended {order.status}, not {plan.status}")
    events = d.session.scalars(sa.select(OrderEvent.at).where(OrderEvent.order_id == order.id)).all()
    d.count("order_events", len(events))
    d.touch(plan.client, max(events))


def _escalate(d: Demo, plan: _OrderPlan, at: datetime) -> None:
    """Back to the ordering staff member (the deadline job's wording)."""
    plan.order.escalated_at = at
    _event(d, plan, at, "escalate", OrderStatus.OFFERED, OrderStatus.ESCALATED,
           code="order.no_provider_left")


def _reoffered(d: Demo, plan: _OrderPlan, staff: User) -> None:
    """Nobody answered the first offer; the order escalated and the staff member
    offered it to another provider, who accepted."""
    tl = plan.timeline
    for provider in plan.recipients:
        _offer(d, plan, provider, OfferStatus.EXPIRED, tl.created_at)
    _escalate(d, plan, max(o.answered_at for o in plan.offers))
    _event(d, plan, tl.reoffered_at, "reoffer", OrderStatus.ESCALATED, OrderStatus.OFFERED, actor=staff,
           code="order.offered", params={"mode": str(OfferMode.SINGLE), "num": 1})
    _offer(d, plan, plan.reoffer_to, OfferStatus.ACCEPTED, tl.reoffered_at, tl.accepted_at)
    _accept(d, plan)


def _parallel_offers(d: Demo, plan: _OrderPlan) -> None:
    """Single and broadcast rounds: every recipient gets the offer at once."""
    tl, rng, state = plan.timeline, d.rng, plan.prior
    sent = tl.created_at
    if state == OrderStatus.OFFERED:
        until = plan.cancelled_at or d.now
        for i, provider in enumerate(plan.recipients):
            if i > 0 and rng.random() < 0.3:
                answered = sent + (until - sent) * rng.uniform(0.1, 0.8)
                _offer(d, plan, provider, OfferStatus.DECLINED, sent, answered)
            else:
                _offer(d, plan, provider, OfferStatus.PENDING, sent)
    elif state == OrderStatus.ESCALATED:
        for provider in plan.recipients:
            if rng.random() < 0.5:
                _offer(d, plan, provider, OfferStatus.DECLINED, sent,
                       sent + timedelta(hours=rng.uniform(0.5, 20)))
            else:
                _offer(d, plan, provider, OfferStatus.EXPIRED, sent)
        _escalate(d, plan, max(o.answered_at for o in plan.offers))
    else:
        for provider in plan.recipients:
            if provider is plan.winner:
                _offer(d, plan, provider, OfferStatus.ACCEPTED, sent, tl.accepted_at)
            elif rng.random() < 0.4:
                _offer(d, plan, provider, OfferStatus.DECLINED, sent,
                       sent + (tl.accepted_at - sent) * rng.uniform(0.1, 0.9))
            else:
                _offer(d, plan, provider, OfferStatus.WITHDRAWN, sent)  # another provider won
        _accept(d, plan)


def _ranked_offers(d: Demo, plan: _OrderPlan) -> None:
    """Down the procured ranking: the next provider gets the offer when the previous
    one declines; those whose turn has not come wait (no ``sent_at``) and are
    withdrawn once somebody accepts."""
    tl, rng, state = plan.timeline, d.rng, plan.prior
    taken = state in TAKEN_STATES
    if taken:
        current, stop = plan.recipients.index(plan.winner), tl.accepted_at
    elif state == OrderStatus.OFFERED:
        current, stop = (rng.choice((0, 0, 1)) if len(plan.recipients) > 1 else 0), plan.cancelled_at or d.now
    else:  # escalated: everybody declined in turn
        current, stop = len(plan.recipients), tl.created_at + timedelta(hours=30)
    sent = tl.created_at
    step = (stop - sent) / (current + 1)
    for position, provider in enumerate(plan.recipients):
        if position > 0 and position <= current:
            _event(d, plan, sent, "offer", OrderStatus.OFFERED, OrderStatus.OFFERED, provider=provider,
                   code="offer.next_ranked")
        if position < current:
            answered = sent + min(step * rng.uniform(0.3, 0.9), timedelta(hours=20))
            _offer(d, plan, provider, OfferStatus.DECLINED, sent, answered)
            sent = answered
        elif position == current:
            status = OfferStatus.ACCEPTED if taken else OfferStatus.PENDING
            _offer(d, plan, provider, status, sent, tl.accepted_at if taken else None)
        else:
            _offer(d, plan, provider, OfferStatus.WITHDRAWN if taken else OfferStatus.PENDING, None)
    if state == OrderStatus.ESCALATED:
        _escalate(d, plan, sent)
    if taken:
        _accept(d, plan)


def _accept(d: Demo, plan: _OrderPlan) -> None:
    """The winner's org admin accepted: the order gets its provider."""
    order = plan.order
    order.provider_id, order.accepted_at = plan.winner.id, plan.timeline.accepted_at
    _event(d, plan, order.accepted_at, "accept", OrderStatus.OFFERED, OrderStatus.ACCEPTED,
           actor=d.provider_admins[plan.winner.id], provider=plan.winner)


def _reporter(d: Demo, provider_id: int) -> User:
    """Who writes a provider's visit reports: its worker if it has one."""
    return d.provider_workers.get(provider_id) or d.provider_admins[provider_id]


def _visits(d: Demo, plan: _OrderPlan) -> None:
    """Visit reports through record_visit; the first one starts the order, a concern
    alerts the responsible worker."""
    order, rng, tl = plan.order, d.rng, plan.timeline
    reporter = _reporter(d, order.provider_id)
    tasks = d.tasks[plan.category]
    concern_at = rng.randrange(len(tl.visits)) if plan.concern else None
    for i, start in enumerate(tl.visits):
        minutes = order.minutes_per_visit or rng.choice((60, 90, 120))
        if minutes > 15:
            minutes += rng.choice((-15, 0, 0, 0, 15))
        reported = start + timedelta(minutes=minutes + rng.randrange(5, 60))
        concern = i == concern_at
        done = rng.sample(tasks, rng.randrange(1, 4))
        note = rng.choice(CONCERN_NOTES) if concern else rng.choice(VISIT_NOTES)
        record_visit(reporter, order.id, visit_date=local_date(start), minutes=minutes, tasks=done,
                     note=None if concern else note, concern=concern, concern_text=note if concern else None,
                     urgency=(Urgency.TODAY if plan.status == OrderStatus.IN_PROGRESS
                              else rng.choice((Urgency.TODAY, Urgency.WEEK))) if concern else None)
        _backdate(d, plan, reported)
        d.count("visit_reports")
        if concern:
            _concern_follow_up(d, plan, reported)


def _done_by_hand(d: Demo, plan: _OrderPlan, kind: str, at: datetime, by_id: int, note: str) -> None:
    """Mark the order's open follow-up of ``kind`` done at ``at``. By hand, not with
    clients.services.complete_follow_up: that stamps now and logs an access row at
    the moment the demo is loaded, which the append-only log cannot move back."""
    follow = d.session.scalar(sa.select(FollowUp).where(
        FollowUp.order_id == plan.order.id, FollowUp.kind == kind, FollowUp.done_at.is_(None)))
    follow.done_at, follow.done_by_id, follow.done_note = at, by_id, note
    if follow.concern is not None:
        follow.concern.acknowledged_at, follow.concern.acknowledged_by_id = at, by_id


def _concern_follow_up(d: Demo, plan: _OrderPlan, at: datetime) -> None:
    """record_visit opened the responsible worker's task about the concern; it is
    done unless the order still runs."""
    d.count("follow_ups")
    if plan.status != OrderStatus.IN_PROGRESS:
        done = min(at + timedelta(days=d.rng.uniform(0.2, 2)), d.now - timedelta(hours=1))
        _done_by_hand(d, plan, FollowUpKind.CONCERN, done, plan.client.responsible_worker_id,
                      "Soitettu asiakkaalle ja kotihoitoon, kotikäynti sovittu.")


def _close(d: Demo, plan: _OrderPlan, staff: User) -> None:
    """Staff confirm what the client got (close_order); a service not received opens
    a follow-up, done by now unless the order was closed in the last week."""
    rng, closed = d.rng, plan.timeline.closed_at
    if rng.random() < 0.15:
        outcome, note = Outcome.NOT_RECEIVED, rng.choice(NOT_RECEIVED_NOTES)
    else:
        outcome, note = Outcome.RECEIVED, rng.choice((None, None, "Asiakas tyytyväinen, tarve jatkuu omana ostona.",
                                                      "Varmistettu puhelimessa asiakkaalta."))
    close_order(staff, plan.order.id, outcome, note)
    _backdate(d, plan, closed)
    if outcome == Outcome.NOT_RECEIVED:
        d.count("follow_ups")
        if closed < d.ago(days=7):
            _done_by_hand(d, plan, FollowUpKind.OTHER, closed + timedelta(days=2), staff.id,
                          "Uusi tilaus tehty toiselle palveluntuottajalle.")


def _signals_and_escalations(d: Demo) -> None:
    """Weak signals noticed together and urgent concerns escalated, as the system
    would have done while the story happened: every concern is noted as a signal
    at its time (a second one from another source within the window raises the
    client's follow-up), then the escalation sweep runs (an urgent concern of a
    running order was not acknowledged in time and goes to the area's other staff)."""
    concerns = d.session.scalars(sa.select(Concern).order_by(Concern.created_at)).all()
    before = d.session.scalar(sa.select(sa.func.count()).select_from(FollowUp))
    for concern in concerns:
        note_signal(concern.client_id, CONCERN_SIGNAL, f"provider:{concern.provider_id}", at=concern.created_at)
    d.count("follow_ups", d.session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) - before)
    # The workers acknowledged every urgent concern in time but one: the newest whose
    # time to acknowledge it (working hours) is over by now, so that the sweep has
    # something to escalate whatever the hour and weekday the demo is loaded at.
    waiting = [c for c in concerns if c.acknowledged_at is None]
    overdue = [c for c in waiting if c.urgency == Urgency.TODAY and c.created_at <= d.now - timedelta(hours=ack_hours())
               and acknowledge_by(c) <= d.now]
    left = overdue[-1] if overdue else (waiting[-1] if waiting else None)
    for concern in (c for c in waiting if c is not left):
        client = d.session.get(Client, concern.client_id)
        concern.acknowledged_at = concern.created_at + timedelta(minutes=d.rng.randrange(20, 180))
        concern.acknowledged_by_id = client.responsible_worker_id
    d.session.flush()
    before = d.session.scalar(sa.select(sa.func.count()).select_from(FollowUp))
    escalate_overdue_concerns()
    d.count("follow_ups", d.session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) - before)
