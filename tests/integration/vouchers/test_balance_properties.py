"""Balance arithmetic, property-based: random sequences of service events,
approvals, refusals, resubmissions, settlements and corrections on vouchers in
every unit, with and without an own share. After every step the balance is what
an independent model of the events says, never negative and never above the
grant; every event's two parts add up to its price to the cent; and the
statements add up: what was paid for each event is the amount of its last
settled version, nothing is paid twice.

Each example runs in one transaction on the real services and is rolled back."""

from datetime import date, timedelta
from fractions import Fraction

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.vouchers.conftest import previous_month


OPS = st.lists(st.one_of(
    st.tuples(st.just("record"), st.integers(0, 1), st.integers(0, 27), st.integers(1, 400)),
    st.tuples(st.just("approve"), st.integers(0, 30)),
    st.tuples(st.just("refuse"), st.integers(0, 30)),
    st.tuples(st.just("resubmit"), st.integers(0, 30), st.integers(1, 300)),
    st.tuples(st.just("settle")),
    st.tuples(st.just("correct"), st.integers(0, 30), st.integers(0, 300)),
), min_size=1, max_size=25)

VOUCHERS = st.tuples(
    st.sampled_from(["hour", "visit", "euro"]),
    st.integers(1, 900),          # monthly amount
    st.integers(1, 9999),         # value per hour or visit
    st.integers(0, 12000),        # the provider's price (0: not priced in the unit)
    st.booleans(),                # renews
)


def _half_up(x: Fraction) -> int:
    return int((x + Fraction(1, 2)).__floor__())


def expected_parts(unit: str, q: int, value: int, price: int) -> tuple[int, int]:
    """The county's part and the client's, computed independently of the service."""
    if unit == "euro":
        return q, 0
    rate = price if price > 0 else value
    per = Fraction(1, 60) if unit == "hour" else Fraction(1)
    total = _half_up(rate * q * per)
    covered = _half_up(min(value, rate) * q * per)
    return covered, total - covered


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(voucher_spec=VOUCHERS, ops=OPS)
def test_balances_and_statements_always_add_up(vw, db, voucher_spec, ops):
    from catalogue.models import Offering
    from core.errors import ConflictError, ValidationFailed
    from orders.services import accept_offer, place_order
    from vouchers import services as svc
    from vouchers.models import ServiceEvent, SettlementLine, StatementItem

    unit, amount, value, price, renews = voucher_spec
    today = date.today()
    months = [previous_month(previous_month(today)), previous_month(today)]
    try:
        offering = db.session.scalar(sa.select(Offering).where(Offering.provider_id == vw.providers[0].id))
        offering.unit = "visit" if unit == "visit" else "hour"
        offering.price_cents = price
        voucher = svc.grant_voucher(vw.staff, client_id=vw.client.id, service_type_id=vw.service_type.id, unit=unit,
                                    monthly_amount=amount, value_cents_per_unit=value if unit != "euro" else None,
                                    valid_from=months[0], valid_to=today + timedelta(days=30), renews=renews)
        order = place_order(vw.staff, client_id=vw.client.id, service_type_id=vw.service_type.id,
                            start_date=today, provider_ids=[vw.providers[0].id], voucher_id=voucher.id)
        accept_offer(vw.members[0], order.id)
        member = vw.members[0]
        model: list[dict] = []   # index → {id, q, mi, status, corrects}
        settled_months = 0

        def period(mi):
            return mi if renews else 0

        def standing(e):
            return e["status"] != "refused" and not any(
                c["corrects"] == e["idx"] and c["status"] != "refused" for c in model)

        def used(mi):
            return sum(e["q"] for e in model if standing(e) and period(e["mi"]) == period(mi))

        def pick(k):
            return model[k % len(model)] if model else None

        for op in ops:
            kind = op[0]
            if kind == "record":
                _, mi, day, q = op
                if used(mi) + q > amount:
                    with pytest.raises(svc.OverBalance):
                        svc.record_event(member, order.id, event_date=months[mi] + timedelta(days=day), quantity=q)
                else:
                    event = svc.record_event(member, order.id, event_date=months[mi] + timedelta(days=day),
                                             quantity=q)
                    model.append({"idx": len(model), "id": event.id, "q": q, "mi": mi, "status": "recorded",
                                  "corrects": None, "day": day})
            elif kind == "approve" and model:
                e = pick(op[1])
                if e["status"] in ("recorded", "under_review"):
                    svc.approve_event(vw.staff, e["id"])
                    e["status"] = "approved"
                else:
                    with pytest.raises(ConflictError):
                        svc.approve_event(vw.staff, e["id"])
            elif kind == "refuse" and model:
                e = pick(op[1])
                if e["status"] in ("recorded", "under_review", "approved"):
                    svc.refuse_event(vw.staff, e["id"], "ei")
                    e["status"] = "refused"
                else:
                    with pytest.raises(ConflictError):
                        svc.refuse_event(vw.staff, e["id"], "ei")
            elif kind == "resubmit" and model:
                e, q = pick(op[1]), op[2]
                when = months[e["mi"]] + timedelta(days=e["day"])
                if e["status"] != "refused":
                    with pytest.raises(ConflictError):
                        svc.resubmit_event(member, e["id"], event_date=when, quantity=q)
                elif e["corrects"] is not None and not standing(model[e["corrects"]]):
                    # Another correction of the same event stands meanwhile.
                    with pytest.raises(ConflictError):
                        svc.resubmit_event(member, e["id"], event_date=when, quantity=q)
                else:
                    original_q = model[e["corrects"]]["q"] if e["corrects"] is not None else 0
                    if used(e["mi"]) - original_q + q > amount:
                        with pytest.raises(svc.OverBalance):
                            svc.resubmit_event(member, e["id"], event_date=when, quantity=q)
                    else:
                        svc.resubmit_event(member, e["id"], event_date=when, quantity=q)
                        e["status"], e["q"] = "recorded", q
            elif kind == "settle" and settled_months < 2:
                month = months[settled_months]
                svc.settle_month(vw.admin, month)
                end = svc.month_end(month)
                for e in model:
                    if e["status"] == "approved" and months[e["mi"]] <= end:
                        e["status"] = "settled"
                settled_months += 1
            elif kind == "correct" and model:
                e, q = pick(op[1]), op[2]
                pending = any(c["corrects"] == e["idx"] and c["status"] != "refused" for c in model)
                if e["status"] not in ("settled", "paid"):
                    with pytest.raises(ConflictError):
                        svc.correct_event(member, e["id"], quantity=q, reason="korjaus")
                elif pending:
                    with pytest.raises(ConflictError):
                        svc.correct_event(member, e["id"], quantity=q, reason="korjaus")
                elif q == e["q"]:
                    with pytest.raises(ValidationFailed):
                        svc.correct_event(member, e["id"], quantity=q, reason="korjaus")
                elif used(e["mi"]) - e["q"] + q > amount:
                    with pytest.raises(svc.OverBalance):
                        svc.correct_event(member, e["id"], quantity=q, reason="korjaus")
                else:
                    c = svc.correct_event(member, e["id"], quantity=q, reason="korjaus")
                    model.append({"idx": len(model), "id": c.id, "q": q, "mi": e["mi"], "status": "recorded",
                                  "corrects": e["idx"], "day": e["day"]})

            # -- invariants after every step --
            for mi, month in enumerate(months):
                start, end = svc.balance_period(voucher, month)
                got = svc.used_amount(voucher.id, start, end)
                assert got == used(mi), (op, got, used(mi))
                assert 0 <= got <= amount
                assert svc.balance(voucher, month).remaining == amount - got >= 0
            rows = {r.id: r for r in db.session.scalars(
                sa.select(ServiceEvent).where(ServiceEvent.voucher_id == voucher.id)
                .execution_options(populate_existing=True))}
            assert len(rows) == len(model)
            for e in model:
                row = rows[e["id"]]
                assert (row.status, row.quantity) == (e["status"], e["q"]), (op, e)
                assert (row.voucher_cents, row.client_share_cents) == expected_parts(
                    unit, row.quantity, value, row.price_cents_per_unit)
                assert row.voucher_cents >= 0 and row.client_share_cents >= 0

        # -- the statements add up --
        items = db.session.scalars(sa.select(StatementItem).join(ServiceEvent, ServiceEvent.id == StatementItem.event_id)
                                   .where(ServiceEvent.voucher_id == voucher.id)).all()
        lines = db.session.scalars(sa.select(SettlementLine)).all()
        assert sum(i.voucher_cents for i in items) == sum(line.voucher_cents + line.credit_cents for line in lines)
        assert sum(i.client_share_cents for i in items) == sum(line.client_share_cents for line in lines)
        # What was paid per original event: its last settled version's amount.
        paid = 0
        for e in model:
            if e["corrects"] is None:
                chain, last_settled = e, None
                while chain is not None:
                    if chain["status"] in ("settled", "paid"):
                        last_settled = chain
                    chain = next((c for c in model if c["corrects"] == chain["idx"]
                                  and c["status"] in ("settled", "paid")), None)
                if last_settled is not None:
                    paid += rows[last_settled["id"]].voucher_cents
        assert sum(i.voucher_cents for i in items) == paid
        assert len({(i.event_id, i.kind) for i in items}) == len(items)
    finally:
        db.session.rollback()
