"""The data export holds everything held on the client; erasure pseudonymises the
person and keeps every count the reports are made of."""


import pytest
import sqlalchemy as sa

from accounts.models import User
from clients.models import Client, FollowUp, GuidanceContact, Message, NetworkMember
from core.errors import ConflictError, PermissionDenied
from core.extensions import db as _db
from core.models import AccessLogEntry
from tests import factories as f

pytestmark = pytest.mark.smoke


def _everything_for(world):
    """One row in every table that holds something about Aino."""
    w = world
    aino = w.aino
    f.NetworkMemberFactory(client_id=aino.id, name="Liisa Hoitaja")
    f.GuidanceContactFactory(client_id=aino.id, staff_id=w.worker.id, topic="cleaning")
    f.FollowUpFactory(client_id=aino.id, assigned_to_id=w.worker.id, title="Soita")
    from clients.models import Concern

    _db.session.add(Concern(client_id=aino.id, order_id=w.aino_order.id, description="Kaatunut eteisessä",
                            urgency="today"))
    f.MessageFactory(client_id=aino.id, sender_id=w.aino_user.id, to_user_id=w.worker.id, body="Hei!",
                     order_id=w.aino_order.id)
    f.OfferFactory(order=w.aino_order, provider=w.provider, status="accepted")
    f.OrderEventFactory(order_id=w.aino_order.id, action="accept", to_status="accepted")
    voucher = f.ServiceVoucherFactory(client_id=aino.id, service_type_id=w.service_type.id)
    f.ServiceEventFactory(voucher_id=voucher.id, order_id=w.aino_order.id, provider_id=w.provider.id)
    link = f.FeedbackLinkFactory(order_id=w.aino_order.id, provider_id=w.provider.id, client_id=aino.id)
    f.FeedbackFactory(link_id=link.id, order_id=w.aino_order.id, provider_id=w.provider.id, client_id=aino.id,
                      rating=4, needs_met=True, comment="Hyvä")
    shop = f.ShopOrderFactory(client_id=aino.id, provider=w.provider, buyer_name="Aino Asiakas")
    f.ShopOrderItemFactory(shop_order=shop)
    f.ShopOrderEventFactory(shop_order_id=shop.id)
    from core.db import utcnow
    from frontdoor.models import HelpRequest

    # The front-door request that became her client record.
    _db.session.add(HelpRequest(reference="AP-TEST01", for_whom="self", topics=["cleaning"], name="Aino Asiakas",
                                phone="0401234567", contact_key="+358401234567", postal_code="33100",
                                callback_due=utcnow(), status="converted", converted_at=utcnow(), client_id=aino.id))
    from clients.services import set_consent

    set_consent(w.worker, aino.id, False)  # a client event
    _db.session.commit()


def _tables_about_clients():
    """Every table that refers to a client, a service order or a purchase."""
    names = set()
    for table in _db.metadata.sorted_tables:
        targets = {fk.column.table.name for fk in table.foreign_keys}
        if targets & {"clients", "service_orders", "shop_orders"} and table.name != "clients":
            names.add(table.name)
    return names


def test_the_export_holds_a_row_of_every_table_about_the_client(client, db, world, login_as):
    _everything_for(world)
    login_as(world.aino_user)
    r = client.get("/clients/me/data/export.json")
    assert r.status_code == 200
    assert "attachment" in r.headers["Content-Disposition"]
    data = r.get_json()
    tables = data["tables"]
    expected = _tables_about_clients()
    assert expected <= set(tables), expected - set(tables)
    empty = [name for name in expected if not tables[name]]
    assert empty == [], f"no rows exported from {empty}"
    assert data["client"]["email"] == "aino@example.fi" and data["client"]["address"] == "Hämeenkatu 5 A 1"
    assert data["client"]["personal_identity_code"] == "131052-****"
    # The concern's row is the client's data; its text is for the client's workers only.
    assert tables["concerns"][0]["urgency"] == "today" and "description" not in tables["concerns"][0]
    assert "Kaatunut" not in r.get_data(as_text=True)
    body = r.get_data(as_text=True)
    assert "308T" not in body and "password_hash" not in body and "token_hash" not in body
    assert tables["users"][0]["email"] == "aino.login@example.fi"
    assert {row["client_id"] for row in tables["access_log"]} == {world.aino.id}
    assert data["names"]["organisations"][str(world.provider.id)] == "Kirkas Koti Oy"
    assert data["names"]["people"][str(world.worker.id)] == {"name": "Sanna Ohjaaja", "role": "staff"}


def test_the_export_holds_nothing_of_another_client(client, db, world, login_as):
    _everything_for(world)
    f.MessageFactory(client_id=world.bertta.id, sender_id=world.bertta_user.id, body="Bertan viesti")
    login_as(world.aino_user)
    body = client.get("/clients/me/data/export.json").get_data(as_text=True)
    for word in ("Bertta", "Bertan viesti", "Satakunnankatu", world.bertta_order.number):
        assert word not in body


def _report_counts():
    from feedback.models import Feedback
    from orders.models import ServiceOrder, VisitReport

    def count(model, *where):
        return _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    by_status = dict(_db.session.execute(sa.select(ServiceOrder.status, sa.func.count())
                                         .group_by(ServiceOrder.status)).all())
    by_area = dict(_db.session.execute(sa.select(Client.postal_code, sa.func.count(ServiceOrder.id))
                                       .join(ServiceOrder, ServiceOrder.client_id == Client.id)
                                       .group_by(Client.postal_code)).all())
    return {"orders": by_status, "orders_by_area": by_area, "visits": count(VisitReport),
            "visit_minutes": _db.session.scalar(sa.select(sa.func.sum(VisitReport.minutes))),
            "feedback": count(Feedback), "rating_sum": _db.session.scalar(sa.select(sa.func.sum(Feedback.rating))),
            "guidance": count(GuidanceContact), "access_log": count(AccessLogEntry, AccessLogEntry.action != "erase"),
            "clients": count(Client)}


def test_erasure_on_request_pseudonymises_and_keeps_report_counts(client, db, world, login_as):
    w = world
    _everything_for(w)
    w.aino_order.status = "closed"
    db.session.commit()
    login_as(w.aino_user)
    r = client.post("/clients/me/data/erasure", data={"reason": "En enää tarvitse", "confirm": "y"})
    assert r.status_code == 302
    follow = db.session.scalar(sa.select(FollowUp).where(FollowUp.client_id == w.aino.id, FollowUp.kind == "erasure"))
    assert follow.assigned_to_id == w.worker.id and follow.done_at is None
    before = _report_counts()

    client.post("/logout")
    login_as(w.worker)
    r = client.post(f"/clients/{w.aino.id}/erase", data={"confirmed": "yes"})
    assert r.status_code == 302
    db.session.expire_all()
    assert _report_counts() == before
    aino = db.session.get(Client, w.aino.id)
    assert (aino.first_name, aino.last_name) == ("Poistettu", f"asiakas {aino.id}")
    assert aino.personal_identity_code is None and aino.birth_date is None and aino.address == ""
    assert aino.phone is None and aino.email is None and aino.erased_at is not None
    assert aino.postal_code == "33100"  # kept for area statistics
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NetworkMember)
                             .where(NetworkMember.client_id == aino.id)) == 0
    assert db.session.scalar(sa.select(Message.body).where(Message.client_id == aino.id)) == ""
    assert w.aino_order.instructions == ""
    login = db.session.get(User, w.aino_user.id)
    assert not login.active and "aino" not in login.email
    assert db.session.get(FollowUp, follow.id).done_at is not None
    # Gone from search, from the portal and the API; the login no longer works.
    assert "Poistettu" not in client.get("/clients/?q=poistettu").get_data(as_text=True).split("<tbody>")[-1]
    assert client.get(f"/clients/{aino.id}").status_code == 404
    other = client.application.test_client()
    r = other.post("/login", data={"email": "aino.login@example.fi", "password": "correct-horse-battery"})
    assert r.status_code == 401
    # The relative no longer reaches the client.
    client.post("/logout")
    login_as(w.relative)
    assert "Poistettu" not in client.get("/dashboard").get_data(as_text=True)


def test_erasure_waits_until_orders_are_finished(db, world):
    from clients.services import erase_client, request_erasure

    request_erasure(world.aino_user, world.aino.id)
    with pytest.raises(ConflictError) as refused:
        erase_client(world.worker, world.aino.id)
    assert refused.value.code == "open_orders"


def test_erasure_needs_a_request_or_the_retention_flag(db, world):
    from clients.services import erase_client

    world.aino_order.status = "closed"
    db.session.commit()
    with pytest.raises(ConflictError) as refused:
        erase_client(world.worker, world.aino.id)
    assert refused.value.code == "erasure_not_requested"


def test_only_staff_erase_and_only_the_client_asks(db, world):
    from clients.services import erase_client, request_erasure

    with pytest.raises(PermissionDenied):
        erase_client(world.aino_user, world.aino.id)
    with pytest.raises(PermissionDenied) as refused:
        request_erasure(world.relative, world.aino.id)
    assert refused.value.code == "own_data_only"


def test_a_declined_request_tells_the_client_the_reason(client, db, world, login_as, run_jobs, emails):
    from clients.services import request_erasure

    request_erasure(world.aino_user, world.aino.id, reason="Muutan pois")
    db.session.commit()
    run_jobs()
    assert any(to == "sanna@example.fi" for to, _s, _b in emails())
    login_as(world.worker)
    r = client.post(f"/clients/{world.aino.id}/erasure/decline",
                    data={"reason": "Sosiaalihuollon asiakirjat on säilytettävä lain mukaan.", "confirmed": "yes"})
    assert r.status_code == 302
    run_jobs()
    mails = [m for m in emails() if m[0] == "aino.login@example.fi"]
    assert len(mails) == 1 and "Sosiaalihuollon" not in mails[0][2] and "/clients/me/data" in mails[0][2]
    client.post("/logout")
    login_as(world.aino_user)
    page = client.get("/clients/me/data").get_data(as_text=True)
    assert "Sosiaalihuollon asiakirjat on säilytettävä lain mukaan." in page
    db.session.expire_all()
    assert world.aino.erasure_requested_at is None and world.aino.erased_at is None
