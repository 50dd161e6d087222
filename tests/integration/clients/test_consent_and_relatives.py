"""Consent rules (who recorded it and when; withdrawal stops new orders) and the
limits of a relative's access."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from clients.models import ClientEvent, ClientRepresentative
from core.errors import ConflictError, PermissionDenied, ValidationFailed
from tests import factories as f

pytestmark = pytest.mark.smoke


def _place(world, client=None):
    from orders.services import place_order

    f.OfferingFactory(provider=world.provider, service_type=world.service_type, postal_codes=["33100"])
    return place_order(world.worker, client_id=(client or world.aino).id, service_type_id=world.service_type.id,
                       start_date=date.today() + timedelta(days=2))


def test_withdrawn_consent_is_recorded_and_stops_new_orders(client, db, world, login_as):
    login_as(world.other_worker)
    r = client.post(f"/clients/{world.aino.id}/consent", data={"consent": "no", "note": "asked by phone"})
    assert r.status_code == 302
    db.session.expire_all()
    aino = world.aino
    assert aino.consent_to_share is False
    assert aino.consent_recorded_by_id == world.other_worker.id and aino.consent_recorded_at is not None
    event = db.session.scalar(sa.select(ClientEvent).where(ClientEvent.action == "consent_withdrawn"))
    assert event.actor_id == world.other_worker.id and event.note == "asked by phone"
    with pytest.raises(ValidationFailed) as refused:
        _place(world)
    assert refused.value.code == "no_consent"
    db.session.rollback()
    page = client.get(f"/clients/{world.aino.id}").get_data(as_text=True)
    assert "/orders/new?client_id=" not in page  # no "New order" button without consent


def test_consent_given_again_allows_orders(db, world):
    from clients.services import set_consent

    set_consent(world.worker, world.aino.id, False)
    set_consent(world.worker, world.aino.id, True, note="signed form")
    db.session.commit()
    order = _place(world)
    assert order.status in ("offered", "accepted")
    actions = db.session.scalars(sa.select(ClientEvent.action).where(ClientEvent.client_id == world.aino.id)
                                 .order_by(ClientEvent.id)).all()
    assert actions[-2:] == ["consent_withdrawn", "consent_given"]


def test_recording_the_same_consent_twice_is_refused(db, world):
    from clients.services import set_consent

    with pytest.raises(ConflictError):
        set_consent(world.worker, world.aino.id, True)


def test_only_staff_record_consent(db, world):
    from clients.services import set_consent

    for user in (world.aino_user, world.relative, world.provider_member):
        with pytest.raises(PermissionDenied):
            set_consent(user, world.aino.id, False)


def test_a_relative_needs_the_clients_recorded_consent(client, db, world, login_as):
    login_as(world.worker)
    r = client.post(f"/clients/{world.bertta.id}/relatives/new",
                    data={"name": "Pekka Poika", "email": "pekka@example.fi", "relationship": "son"})
    assert r.status_code == 422
    assert "vain asiakkaan suostumuksella" in r.get_data(as_text=True)  # Finnish is the default
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientRepresentative)
                             .where(ClientRepresentative.client_id == world.bertta.id)) == 0
    r = client.post(f"/clients/{world.bertta.id}/relatives/new",
                    data={"name": "Pekka Poika", "email": "pekka@example.fi", "relationship": "son",
                          "client_consents": "y", "scopes": ["services", "messages", "buy", "feedback"]})
    assert r.status_code == 302
    rep = db.session.scalar(sa.select(ClientRepresentative).where(ClientRepresentative.client_id == world.bertta.id))
    assert rep.consent_recorded_by_id == world.worker.id and rep.consent_recorded_at is not None
    assert rep.user.email == "pekka@example.fi" and rep.user.role == "client" and rep.user.client_id is None


def test_a_relative_sees_the_services_network_log_and_messages_of_the_represented_client(client, world, login_as):
    login_as(world.relative)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Aino Asiakas" in page and world.service_type.name() in page
    assert client.get("/clients/me/network").status_code == 200
    assert client.get("/clients/me/access-log").status_code == 200
    r = client.post("/clients/me/messages", data={"to": "worker", "body": "Äiti on väsynyt"})
    assert r.status_code == 302


def test_a_relative_cannot_export_ask_for_erasure_or_see_protected_contact_details(client, db, world, login_as):
    world.aino.non_disclosure = True
    db.session.commit()
    login_as(world.relative)
    assert client.get("/clients/me/data/export.json").status_code == 403
    r = client.post("/clients/me/data/erasure", data={"confirm": "y"})
    assert r.status_code == 302
    db.session.expire_all()
    assert world.aino.erasure_requested_at is None
    page = client.get("/clients/me/data").get_data(as_text=True)
    assert "Hämeenkatu" not in page and "040 111 2222" not in page
    assert "/clients/me/data/export.json" not in page and "/clients/me/data/erasure" not in page


def test_an_ended_relative_no_longer_reaches_the_client(client, db, world, login_as):
    from clients.services import end_representative

    end_representative(world.worker, world.representation.id)
    db.session.commit()
    login_as(world.relative)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Aino" not in page
    assert client.get(f"/clients/me/network?client={world.aino.id}").status_code == 404
    with pytest.raises(ConflictError):
        end_representative(world.worker, world.representation.id)


def test_a_user_acting_for_several_clients_chooses_whose_services(client, db, world, login_as):
    f.ClientRepresentativeFactory(client_id=world.bertta.id, user_id=world.aino_user.id, relationship_="sister")
    db.session.commit()
    login_as(world.aino_user)
    choose = client.get("/clients/me/choose").get_data(as_text=True)
    assert "Aino Asiakas" in choose and "Bertta Toinen" in choose
    own = client.get("/dashboard").get_data(as_text=True)
    assert "/clients/me/choose" in own
    theirs = client.get(f"/dashboard?client={world.bertta.id}").get_data(as_text=True)
    assert "Bertta Toinen" in theirs
    # The choice is remembered for the other pages.
    network = client.get("/clients/me/network").get_data(as_text=True)
    assert "Bertta Toinen" in network and world.other_worker.name in network
