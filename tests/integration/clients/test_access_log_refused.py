"""The access log survives a refused form (issue 12): a POST that is refused and
shows the client's data again writes exactly one access-log row for that client,
although the request's own changes are rolled back; a successful page writes
exactly one row per client shown."""

import pytest
import sqlalchemy as sa

from core.models import AccessLogEntry

EDIT = {"first_name": "Aino", "last_name": "Asiakas", "address": "Uusi katu 1", "postal_code": "33100",
        "municipality": "Tampere", "languages": ["fi"], "segment": "guidance"}


def _rows(db, client_id):
    db.session.expire_all()
    return db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == client_id)
                              .order_by(AccessLogEntry.id)).all()


@pytest.mark.parametrize("path,data,shown", [
    # The form is invalid (a postal code of four digits): wtforms refuses it.
    ("/clients/{aino}/edit", dict(EDIT, postal_code="3310"), "Aino Asiakas"),
    # The service refuses it (DomainError, on the identity code field).
    ("/clients/{aino}/edit", dict(EDIT, personal_identity_code="131052-308X"), "Aino Asiakas"),
    ("/clients/{aino}/network/new", {"name": "", "role": "home nurse"}, "Aino Asiakas"),
])
def test_a_refused_staff_form_writes_exactly_one_row_for_the_client_shown_again(
        client, db, world, login_as, path, data, shown):
    login_as(world.worker)
    before = _rows(db, world.aino.id)
    r = client.post(path.format(aino=world.aino.id), data=data)
    assert r.status_code >= 400 and r.status_code != 500, r.status_code
    assert shown in r.get_data(as_text=True)
    after = _rows(db, world.aino.id)
    assert len(after) == len(before) + 1
    assert after[-1].action == "view" and after[-1].actor_id == world.worker.id
    # The refused change itself was rolled back.
    db.session.expire_all()
    assert world.aino.address == "Hämeenkatu 5 A 1"


def test_a_service_refusal_rolls_back_the_change_but_keeps_the_read(client, db, world, login_as):
    """Another client's identity code: the service refuses after the form was valid."""
    login_as(world.worker)
    world.bertta.personal_identity_code = "010101-123N"
    db.session.commit()
    before = len(_rows(db, world.aino.id))
    r = client.post(f"/clients/{world.aino.id}/edit", data=dict(EDIT, personal_identity_code="010101-123N"))
    assert r.status_code == 409
    assert len(_rows(db, world.aino.id)) == before + 1
    db.session.expire_all()
    assert world.aino.address == "Hämeenkatu 5 A 1" and world.aino.personal_identity_code == "131052-308T"


def test_a_refused_message_from_the_client_writes_exactly_one_row(client, db, world, login_as):
    login_as(world.aino_user)
    before = len(_rows(db, world.aino.id))
    r = client.post("/clients/me/messages", data={"to": "worker", "body": ""})
    assert r.status_code == 422
    assert len(_rows(db, world.aino.id)) == before + 1


def test_a_successful_page_writes_exactly_one_row_per_client_shown(client, db, world, login_as):
    login_as(world.worker)
    aino, bertta = len(_rows(db, world.aino.id)), len(_rows(db, world.bertta.id))
    r = client.get("/clients/?postal_code=33100")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Asiakas, Aino" in html and "Toinen, Bertta" in html
    assert len(_rows(db, world.aino.id)) == aino + 1
    assert len(_rows(db, world.bertta.id)) == bertta + 1
    r = client.get(f"/clients/{world.aino.id}")
    assert r.status_code == 200
    assert len(_rows(db, world.aino.id)) == aino + 2
    assert len(_rows(db, world.bertta.id)) == bertta + 1
