"""Mandates: a relative acts for a client only within the scopes and the validity
period staff recorded with the client's consent; an expired or revoked mandate stops
access at the next request of a session already open; the client sees and revokes;
every act under a mandate is logged with both persons. Through the real pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from clients.models import ClientEvent, ClientRepresentative
from clients.policy import RELATIVE_PURPOSE
from core.models import AccessLogEntry
from core.time import local_today
from marketplace.models import ShopOrder
from tests import factories as f

pytestmark = pytest.mark.smoke

ALL = ["services", "messages", "buy", "feedback"]


def html(r) -> str:
    return r.get_data(as_text=True)


def set_mandate(db, world, **values):
    """Staff's earlier decision (or the passing of time) as the row holds it."""
    db.session.execute(sa.update(ClientRepresentative).where(ClientRepresentative.id == world.representation.id)
                       .values(**values))
    db.session.commit()


def mandate_rows(db, world, since_id: int = 0) -> list[AccessLogEntry]:
    """The access-log rows of Aino's data written by the relative (both persons)."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AccessLogEntry).where(
        AccessLogEntry.client_id == world.aino.id, AccessLogEntry.actor_id == world.relative.id,
        AccessLogEntry.id > since_id).order_by(AccessLogEntry.id)))


def last_log_id(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AccessLogEntry.id), 0)))


# -- recorded by staff -------------------------------------------------------------------

def test_staff_record_a_mandate_with_scopes_and_period_then_change_and_end_it(client, db, world, login_as):
    login_as(world.worker)
    today = local_today()
    r = client.post(f"/clients/{world.bertta.id}/relatives/new", data={
        "name": "Pekka Poika", "email": "pekka@example.fi", "relationship": "poika", "client_consents": "y",
        "valid_from": "", "valid_until": (today + timedelta(days=30)).isoformat()})
    assert r.status_code == 422  # no scope ticked: said so next to the field
    assert "Valitse ainakin yksi" in html(r)
    r = client.post(f"/clients/{world.bertta.id}/relatives/new", data={
        "name": "Pekka Poika", "email": "pekka@example.fi", "relationship": "poika", "client_consents": "y",
        "scopes": ["messages", "buy"], "valid_from": today.isoformat(),
        "valid_until": (today - timedelta(days=1)).isoformat()})
    assert r.status_code == 422 and "Loppu on ennen alkua" in html(r)
    r = client.post(f"/clients/{world.bertta.id}/relatives/new", data={
        "name": "Pekka Poika", "email": "pekka@example.fi", "relationship": "poika", "client_consents": "y",
        "scopes": ["messages", "buy"], "valid_until": (today + timedelta(days=30)).isoformat()})
    assert r.status_code == 302
    rep = db.session.scalar(sa.select(ClientRepresentative).where(ClientRepresentative.client_id == world.bertta.id))
    assert rep.scopes == ["messages", "buy"] and rep.valid_until == today + timedelta(days=30)
    page = html(client.get(f"/clients/{world.bertta.id}"))
    assert "Lukea ja lähettää viestejä" in page and "Ostaa itse maksettavia palveluja" in page
    assert f"/clients/relatives/{rep.id}/edit" in page

    edit = html(client.get(f"/clients/relatives/{rep.id}/edit"))
    assert 'value="messages" checked' in edit.replace("checked ", "checked").replace('  ', ' ') or "checked" in edit
    r = client.post(f"/clients/relatives/{rep.id}/edit", data={"scopes": ["services"], "valid_from": "",
                                                              "valid_until": ""})
    assert r.status_code == 302
    db.session.expire_all()
    rep = db.session.get(ClientRepresentative, rep.id)
    assert rep.scopes == ["services"] and rep.valid_until is None
    assert db.session.scalar(sa.select(ClientEvent.id).where(ClientEvent.client_id == world.bertta.id,
                                                             ClientEvent.action == "mandate_changed"))

    assert client.post(f"/clients/relatives/{rep.id}/end").status_code == 302
    db.session.expire_all()
    rep = db.session.get(ClientRepresentative, rep.id)
    assert rep.ended_at is not None and rep.ended_by_id == world.worker.id
    assert client.get(f"/clients/relatives/{rep.id}/edit").status_code == 404  # an ended mandate is not edited


# -- scopes ----------------------------------------------------------------------------------

def test_a_mandate_for_messages_only_opens_messages_and_nothing_of_the_services(client, db, world, login_as):
    set_mandate(db, world, may_see_services=False, may_buy=False, may_give_feedback=False)
    login_as(world.relative)
    dashboard = html(client.get("/dashboard"))
    assert "Asioit henkilön Aino Asiakas puolesta" in dashboard  # the relative addressed as themselves
    assert "Valtakirjasi ei sisällä tämän henkilön palvelujen ja tietojen katsomista" in dashboard
    assert world.service_type.name() not in dashboard
    assert client.get(f"/orders/{world.aino_order.id}").status_code == 404
    r = client.get("/clients/me/network")
    assert r.status_code == 403 and "Valtakirjasi ei sisällä" in html(r)
    assert client.get("/clients/me/data").status_code == 403
    assert client.get("/clients/me/access-log").status_code == 403
    messages = client.get("/clients/me/messages")
    assert messages.status_code == 200
    assert world.provider.name not in html(messages)  # the services are not named as recipients either
    r = client.post("/clients/me/messages", data={"to": "worker", "body": "Äiti on väsynyt"})
    assert r.status_code == 302
    assert client.get("/vouchers/mine").status_code == 200
    assert world.service_type.name() not in html(client.get("/vouchers/mine"))


def test_a_mandate_without_messages_sees_the_services_but_cannot_write(client, db, world, login_as):
    set_mandate(db, world, may_send_messages=False)
    login_as(world.relative)
    order_page = client.get(f"/orders/{world.aino_order.id}")
    assert order_page.status_code == 200 and 'id="messages-h"' not in html(order_page)
    r = client.get("/clients/me/messages")
    assert r.status_code == 403 and "Valtakirjasi ei sisällä viestejä" in html(r)
    r = client.post("/clients/me/messages", data={"to": "worker", "body": "Hei"})
    assert r.status_code == 403
    r = client.post(f"/clients/orders/{world.aino_order.id}/messages", data={"to": "provider", "body": "Hei"})
    assert r.status_code in (302, 403)
    db.session.expire_all()
    from clients.models import Message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.sender_id == world.relative.id)) == 0


def test_a_mandate_that_has_not_started_gives_nothing_yet(client, db, world, login_as):
    set_mandate(db, world, valid_from=local_today() + timedelta(days=2))
    login_as(world.relative)
    assert client.get(f"/orders/{world.aino_order.id}").status_code == 404
    assert "Aino Asiakas" not in html(client.get("/dashboard"))


# -- expiry and revocation in a session already open ----------------------------------------

def test_an_expired_mandate_stops_access_in_the_open_session(client, db, world, login_as):
    set_mandate(db, world, valid_until=local_today())
    login_as(world.relative)
    assert client.get(f"/orders/{world.aino_order.id}").status_code == 200  # valid to the end of today
    # The day turns: yesterday was the last day of the mandate.
    set_mandate(db, world, valid_until=local_today() - timedelta(days=1))
    assert client.get(f"/orders/{world.aino_order.id}").status_code == 404
    dashboard = html(client.get("/dashboard"))
    assert "Aino Asiakas" not in dashboard and world.service_type.name() not in dashboard
    assert client.post("/clients/me/messages", data={"to": "worker", "body": "Hei"}).status_code in (200, 404)
    assert client.get(f"/clients/me/network?client={world.aino.id}").status_code == 404


def test_the_client_sees_who_acts_for_them_and_revokes_stopping_the_relatives_open_session(app, db, world, login_as,
                                                                                           client):
    from tests.fixtures import PASSWORD

    set_mandate(db, world, may_buy=False, valid_until=local_today() + timedelta(days=10))
    relative = app.test_client()
    r = relative.post("/login", data={"email": world.relative.email, "password": PASSWORD})
    assert r.status_code == 302
    assert relative.get(f"/orders/{world.aino_order.id}").status_code == 200

    login_as(world.aino_user)
    page = html(client.get("/clients/me/mandates"))
    assert "Leena Tytär" in page
    assert "Katsoa palveluja, ostoksia ja tietoja" in page and "Antaa palautetta palveluista" in page
    assert "Ostaa itse maksettavia palveluja" not in page
    assert (local_today() + timedelta(days=10)).strftime("%-d.%-m.%Y") in page
    r = client.post(f"/clients/me/mandates/{world.representation.id}/revoke")
    assert r.status_code == 302
    db.session.expire_all()
    rep = db.session.get(ClientRepresentative, world.representation.id)
    assert rep.ended_at is not None and rep.ended_by_id == world.aino_user.id
    assert "Päättyi" in html(client.get("/clients/me/mandates"))

    # The relative's session opened before the revocation: the next page has nothing of Aino's.
    assert relative.get(f"/orders/{world.aino_order.id}").status_code == 404
    assert "Aino Asiakas" not in html(relative.get("/dashboard"))
    # The staff see who ended it.
    assert db.session.scalar(sa.select(ClientEvent.id).where(ClientEvent.client_id == world.aino.id,
                                                             ClientEvent.action == "mandate_revoked"))


def test_a_relative_sees_their_own_mandate_but_cannot_revoke_or_see_others(client, db, world, login_as, make_user):
    other = make_user("client", client_id=None, email="olli@example.fi", name="Olli Veli")
    other_rep = f.ClientRepresentativeFactory(client_id=world.aino.id, user_id=other.id)
    db.session.commit()
    login_as(world.relative)
    page = html(client.get("/clients/me/mandates"))
    assert "Leena Tytär" in page and "Olli Veli" not in page
    assert "/revoke" not in page
    for rep_id in (other_rep.id, world.representation.id):
        r = client.post(f"/clients/me/mandates/{rep_id}/revoke")
        assert r.status_code == 302  # back to the page, which says why
        assert "Vain asiakas itse voi perua valtakirjan" in html(client.get(r.headers["Location"]))
    assert client.post("/clients/me/mandates/999999/revoke").status_code == 404
    db.session.expire_all()
    assert db.session.get(ClientRepresentative, other_rep.id).ended_at is None
    assert db.session.get(ClientRepresentative, world.representation.id).ended_at is None


def test_another_client_cannot_revoke_a_mandate_that_is_not_theirs(client, db, world, login_as):
    login_as(world.bertta_user)
    assert client.post(f"/clients/me/mandates/{world.representation.id}/revoke").status_code == 404
    db.session.expire_all()
    assert db.session.get(ClientRepresentative, world.representation.id).ended_at is None


# -- every act logged with both persons ----------------------------------------------------------

def test_views_and_messages_under_a_mandate_are_logged_with_both_persons(client, db, world, login_as):
    login_as(world.relative)
    start = last_log_id(db)
    assert client.get("/clients/me/network").status_code == 200
    assert client.get(f"/orders/{world.aino_order.id}").status_code == 200
    assert client.post("/clients/me/messages", data={"to": "worker", "body": "Äiti on väsynyt"}).status_code == 302
    rows = mandate_rows(db, world, start)
    assert {(r.action, r.what) for r in rows} >= {("view", "my network"), ("view", f"order {world.aino_order.number}"),
                                                  ("change", "message")}
    assert all(r.purpose == RELATIVE_PURPOSE and r.actor_role == "client" for r in rows)
    # The client sees these rows in their own access log as a relative acting for them.
    client.post("/logout")
    login_as(world.aino_user)
    log = html(client.get("/clients/me/access-log"))
    assert "Leena Tytär" in log


def test_feedback_under_a_mandate_is_given_on_the_order_page_and_logged(client, db, world, login_as, app):
    from feedback.services import issue_feedback_link

    world.aino_order.status = "completed"
    db.session.commit()
    with app.test_request_context():
        issue_feedback_link(order_id=world.aino_order.id, language="fi")
        db.session.commit()

    set_mandate(db, world, may_give_feedback=False)
    login_as(world.relative)
    assert "/feedback/" not in html(client.get(f"/orders/{world.aino_order.id}"))

    set_mandate(db, world, may_give_feedback=True)
    page = html(client.get(f"/orders/{world.aino_order.id}"))
    link = re.search(r'href="(http://kotiapu\.test)?(/feedback/[^"]+)"', page)
    assert link, page
    start = last_log_id(db)
    r = client.post(link.group(2), data={"rating": "4", "needs_met": "yes", "comment": ""})
    assert r.status_code in (302, 303), html(r)[:1000]
    rows = mandate_rows(db, world, start)
    assert [(r.action, r.what, r.purpose) for r in rows] == [("feedback", "feedback", RELATIVE_PURPOSE)]


def test_buying_for_the_client_needs_the_buy_scope_and_is_logged_with_both_persons(client, db, world, login_as):
    category = f.ServiceCategoryFactory(name_fi="Kodinhoito", name_en="Home care")
    cleaning = f.ServiceTypeFactory(category=category, name_fi="Siivous", name_en="Cleaning")
    company = f.ProviderFactory(name="Siisti Oy", kind="company", languages=["fi"])
    offering = f.OfferingFactory(provider=company, service_type=cleaning, price_cents=4500, vat_rate_bp=2550,
                                 postal_codes=["33100"])
    db.session.commit()
    set_mandate(db, world, may_buy=False)
    login_as(world.relative)
    assert client.post("/cart/add", data={"offering_id": offering.id, "quantity": 1, "next": "/services"}).status_code == 302
    page = html(client.get(f"/shop/checkout/{company.id}"))
    assert "Aino Asiakas" not in page  # not offered as someone to buy for

    def hidden(name):
        return re.search(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"', page)

    def field(name):
        m = hidden(name)
        return (m.group(1) or m.group(2)) if m else ""

    form = {"name": "Leena Tytär", "email": "leena@example.fi", "phone": "040 1", "address": "Hämeenkatu 5",
            "postal_code": "33100", "desired_date": "", "desired_time": "", "message": "", "payment": "invoice",
            "expected_total_cents": field("expected_total_cents"), "submission": field("submission"),
            "for_client": str(world.aino.id)}
    client.post(f"/shop/checkout/{company.id}", data=form)
    db.session.expire_all()
    # Whatever the form sent, nothing is bought for Aino (a purchase of the relative's own at most).
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShopOrder)
                             .where(ShopOrder.client_id == world.aino.id)) == 0

    set_mandate(db, world, may_buy=True)
    assert client.post("/cart/add", data={"offering_id": offering.id, "quantity": 1, "next": "/services"}).status_code == 302
    page = html(client.get(f"/shop/checkout/{company.id}"))
    assert "Aino Asiakas" in page
    form.update(expected_total_cents=field("expected_total_cents"), submission=field("submission"))
    start = last_log_id(db)
    r = client.post(f"/shop/checkout/{company.id}", data=form)
    assert r.status_code == 303, html(r)[:2000]
    db.session.expire_all()
    order = db.session.scalars(sa.select(ShopOrder).order_by(ShopOrder.id.desc())).first()
    assert order.client_id == world.aino.id and order.buyer_user_id == world.relative.id
    rows = mandate_rows(db, world, start)
    assert ("create", f"purchase {order.number}", RELATIVE_PURPOSE) in [(r.action, r.what, r.purpose) for r in rows]


# -- addressed as themselves -----------------------------------------------------------------------

def test_a_relative_is_addressed_as_themselves_and_the_client_as_themselves(client, db, world, login_as):
    login_as(world.relative)
    page = html(client.get("/dashboard"))
    assert "Asioit henkilön Aino Asiakas puolesta" in page and "Olet kirjautunut nimellä Leena Tytär" in page
    assert '<span class="role-badge">Omainen</span>' in page
    assert "Käynnit jatkuvat" in page and "sinulle" not in page and "Asiakasohjaajasi" not in page
    assert "Omat palvelut" not in page and "Omat tietoni" not in page
    assert "Valtakirjasi" in page
    client.post("/logout")
    login_as(world.aino_user)
    page = html(client.get("/dashboard"))
    assert "Asioit henkilön" not in page and "Omat palvelut" in page and "Kuka saa asioida puolestani" in page
    assert '<span class="role-badge">Asiakas</span>' in page


def test_the_checkout_api_refuses_buying_for_the_client_without_the_buy_scope(client, db, world, api_token):
    from tests.integration.marketplace.conftest import checkout_body

    company = f.ProviderFactory(name="Siisti Oy", kind="company", languages=["fi"])
    offering = f.OfferingFactory(provider=company, price_cents=4500, vat_rate_bp=2550, postal_codes=["33100"])
    db.session.commit()
    set_mandate(db, world, may_buy=False)
    headers = api_token(world.relative)
    r = client.post("/api/v1/shop/checkout", json=checkout_body((offering.id, 1), client_id=world.aino.id),
                    headers=headers)
    assert r.status_code == 422 and "client_id" in r.get_json()["error"]["fields"]
    set_mandate(db, world, may_buy=True)
    r = client.post("/api/v1/shop/checkout", json=checkout_body((offering.id, 1), client_id=world.aino.id),
                    headers=headers)
    assert r.status_code == 201, r.get_json()
    assert db.session.get(ShopOrder, r.get_json()["shop_order_id"]).client_id == world.aino.id


def test_the_represented_clients_statement_is_built_once_per_request_user_and_day(app, db, world):
    """The client portfolio asks for the represented clients three times per request: the
    statement is built once (it holds only ids and the day; the database reads the
    mandates whenever it runs), and afresh for another user, scope or day."""
    from clients.scopes import ANY, represented_client_ids

    relative, aino_user = world.relative, world.aino_user
    with app.test_request_context("/"):
        first = represented_client_ids(relative)
        assert represented_client_ids(relative) is first
        assert represented_client_ids(aino_user) is not first
        assert represented_client_ids(relative, ANY) is not first
        app.config["FROZEN_NOW"] = "2031-01-15T10:00:00Z"
        try:
            assert represented_client_ids(relative) is not first  # another day
        finally:
            app.config.pop("FROZEN_NOW")
    # Kept, the statement still reads the mandates whenever it runs: one ended in the
    # middle of a request stops access at the next query.
    from clients.scopes import can_act_for_client
    from core.db import utcnow

    with app.test_request_context("/"):
        assert can_act_for_client(relative, world.aino.id)
        world.representation.ended_at = utcnow()
        db.session.flush()
        assert not can_act_for_client(relative, world.aino.id)
