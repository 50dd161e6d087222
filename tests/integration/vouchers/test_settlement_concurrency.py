"""Two settlement runs of the same month at the same moment (the scheduled job and
an administrator, or two workers) pay nothing twice: one settlement, each event
settled once, one statement item per event."""

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.integration.vouchers.conftest import previous_month

pytestmark = pytest.mark.postgres

RUNS = 2
ROUNDS = 5


def test_two_concurrent_runs_settle_each_event_once(app, db, vw, funded_order):
    from accounts.models import User
    from vouchers import services as svc
    from vouchers.models import ServiceEvent, SettlementLine, StatementItem, VoucherSettlement

    p1 = previous_month(date.today())
    order, voucher = funded_order(provider=0)
    order1, _v = funded_order(voucher=voucher, provider=1)
    expected_cents = 0
    for n in range(8):
        member, o = (vw.members[0], order) if n % 2 == 0 else (vw.members[1], order1)
        event = svc.record_event(member, o.id, event_date=p1 + timedelta(days=n), quantity=30 + n)
        svc.approve_event(vw.staff, event.id)
        expected_cents += event.voucher_cents
    db.session.commit()
    admin_id = vw.admin.id

    for _round in range(ROUNDS):
        barrier = threading.Barrier(RUNS)
        outcomes: list = []

        def run(how: str):
            with app.app_context():
                try:
                    admin = db.session.get(User, admin_id)
                    barrier.wait()
                    if how == "admin":
                        settlement = svc.settle_month(admin, p1)
                    else:
                        settlement, _created = svc.settlement_for_month(p1)
                        settlement = svc.run_settlement(settlement.id)
                    db.session.commit()
                    outcomes.append(settlement.id)
                except Exception as exc:  # the test reports it below
                    db.session.rollback()
                    outcomes.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(how,)) for how in ("admin", "job")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(outcomes) == RUNS and all(isinstance(o, int) for o in outcomes), outcomes
        assert len(set(outcomes)) == 1

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoucherSettlement)) == 1
    items = db.session.scalars(sa.select(StatementItem)).all()
    assert len(items) == 8 and len({i.event_id for i in items}) == 8
    assert sum(i.voucher_cents for i in items) == expected_cents
    lines = db.session.scalars(sa.select(SettlementLine)).all()
    assert sorted(line.events for line in lines) == [4, 4]
    assert sum(line.payable_cents for line in lines) == expected_cents
    assert set(db.session.scalars(sa.select(ServiceEvent.status))) == {"settled"}
