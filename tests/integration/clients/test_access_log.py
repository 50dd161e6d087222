"""Every read of a client's data writes exactly one access-log row (and every change
one row); the log is searchable by staff and shown to the client in plain words."""

import pytest
import sqlalchemy as sa

from core.models import AccessLogEntry

pytestmark = pytest.mark.smoke


STAFF_READS = [
    "/clients/{aino}", "/clients/{aino}/edit", "/clients/{aino}/network/new", "/clients/{aino}/relatives/new",
    "/clients/access-log?client_id={aino}", "/clients/{aino}/export.json", "/clients/guidance-contacts?client_id={aino}",
    "/orders/{order}",
]
CLIENT_READS = [
    "/dashboard", "/clients/me/network", "/clients/me/access-log", "/clients/me/messages", "/clients/me/data",
    "/orders/{order}",
]
API_READS = ["/api/v1/clients/{aino}", "/api/v1/clients/{aino}/access-log", "/api/v1/clients/{aino}/export"]


def _url(path, w):
    return path.format(aino=w.aino.id, order=w.aino_order.id)


@pytest.mark.parametrize("path", STAFF_READS)
def test_each_staff_page_of_a_client_writes_one_row(client, world, login_as, log_rows, path):
    login_as(world.worker)
    before = log_rows(world.aino.id)
    r = client.get(_url(path, world))
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert log_rows(world.aino.id) == before + 1


@pytest.mark.parametrize("path", CLIENT_READS + ["/clients/me/data/export.json"])
def test_each_page_of_the_client_writes_one_row(client, world, login_as, log_rows, path):
    login_as(world.aino_user)
    before = log_rows(world.aino.id)
    r = client.get(_url(path, world))
    assert r.status_code == 200
    assert log_rows(world.aino.id) == before + 1


@pytest.mark.parametrize("path", CLIENT_READS)
def test_each_page_read_by_a_relative_writes_one_row_with_the_relatives_purpose(client, db, world, login_as,
                                                                                  log_rows, path):
    login_as(world.relative)
    before = log_rows(world.aino.id)
    assert client.get(_url(path, world)).status_code == 200
    assert log_rows(world.aino.id) == before + 1
    last = db.session.scalar(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == world.aino.id)
                             .order_by(AccessLogEntry.id.desc()).limit(1))
    assert last.actor_id == world.relative.id
    if not path.startswith("/orders/"):  # the order page is the orders package's
        assert last.purpose == "a relative acting for the client"


@pytest.mark.parametrize("path", API_READS)
def test_each_api_read_writes_one_row(client, world, api_token, log_rows, path):
    for user in (world.worker, world.aino_user):
        headers = api_token(user)
        before = log_rows(world.aino.id)
        assert client.get(_url(path, world), headers=headers).status_code == 200
        assert log_rows(world.aino.id) == before + 1


@pytest.mark.parametrize("path,data", [
    ("/clients/{aino}/consent", {"consent": "no", "note": "by phone"}),
    ("/clients/{aino}/messages", {"to": "client", "body": "Hei Aino"}),
    ("/clients/{aino}/edit", {"first_name": "Aino", "last_name": "Asiakas", "address": "Uusi katu 1",
                              "postal_code": "33100", "municipality": "Tampere", "languages": ["fi"],
                              "segment": "guidance"}),
    ("/clients/{aino}/network/new", {"name": "Liisa Hoitaja", "role": "home nurse"}),
])
def test_a_change_by_staff_writes_one_row(client, world, login_as, log_rows, path, data):
    login_as(world.worker)
    before = log_rows(world.aino.id)
    r = client.post(_url(path, world), data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    assert log_rows(world.aino.id) == before + 1


def test_a_message_from_the_client_writes_one_row(client, world, login_as, log_rows):
    login_as(world.aino_user)
    before = log_rows(world.aino.id)
    r = client.post("/clients/me/messages", data={"to": "worker", "body": "Kiitos"})
    assert r.status_code == 302
    assert log_rows(world.aino.id) == before + 1


def test_a_search_writes_one_row_per_client_listed(client, db, world, login_as, log_rows):
    login_as(world.worker)
    before_a, before_b = log_rows(world.aino.id), log_rows(world.bertta.id)
    html = client.get("/clients/?q=aino").get_data(as_text=True)
    assert "Asiakas, Aino" in html and "Bertta" not in html
    assert log_rows(world.aino.id) == before_a + 1 and log_rows(world.bertta.id) == before_b


def test_staff_search_the_log_by_person_and_action(client, world, login_as, api_token):
    client.get(f"/api/v1/clients/{world.aino.id}", headers=api_token(world.other_worker))
    login_as(world.worker)
    html = client.get(f"/clients/access-log?client_id={world.aino.id}&actor=mikko&action=view").get_data(as_text=True)
    assert "Mikko Ohjaaja" in html and "Sanna Ohjaaja" not in html.split("<tbody>")[1]
    everyone = client.get("/clients/access-log?actor=mikko").get_data(as_text=True)
    assert "Asiakas, Aino" in everyone


def test_the_client_reads_the_log_in_plain_words(client, world, login_as, api_token):
    client.get(f"/api/v1/clients/{world.aino.id}", headers=api_token(world.worker))
    login_as(world.aino_user)
    html = " ".join(client.get("/clients/me/access-log?lang=en").get_data(as_text=True).split())
    assert "Sanna Ohjaaja (Guidance staff) looked at: your client record." in html
    assert "Why: to guide and advise you" in html


def test_the_log_cannot_be_changed(db, world):
    row = db.session.scalar(sa.select(AccessLogEntry).limit(1)) or AccessLogEntry(
        client_id=world.aino.id, actor_role="system", action="view", purpose="x")
    db.session.add(row)
    db.session.commit()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.update(AccessLogEntry).values(purpose="hidden"))
        db.session.commit()
    db.session.rollback()
