"""Messages between the client side and the responsible worker or the provider of
an order: kept with the order, shown on the order page, notified by e-mail jobs
that hold no message and no personal data."""

import pytest
import sqlalchemy as sa

from clients.models import Message

pytestmark = pytest.mark.smoke


def test_client_writes_to_the_worker_who_is_told_and_answers(client, db, world, login_as, run_jobs, emails):
    login_as(world.aino_user)
    r = client.post("/clients/me/messages", data={"to": "worker", "body": "Voisiko siivouksen siirtää?"})
    assert r.status_code == 302
    message = db.session.scalar(sa.select(Message))
    assert message.to_user_id == world.worker.id and message.sender_id == world.aino_user.id
    run_jobs()
    [(to, subject, body)] = emails()
    assert to == "sanna@example.fi" and "siirtää" not in body and f"/clients/{world.aino.id}" in body
    client.post("/logout")
    login_as(world.worker)
    page = client.get(f"/clients/{world.aino.id}").get_data(as_text=True)
    assert "Voisiko siivouksen siirtää?" in page
    db.session.expire_all()
    assert message.read_at is not None
    r = client.post(f"/clients/{world.aino.id}/messages", data={"to": "client", "body": "Siirretään torstaille."})
    assert r.status_code == 302
    run_jobs()
    to_client = sorted(m[0] for m in emails()[1:])
    assert to_client == ["aino.login@example.fi", "leena@example.fi"]
    assert all("torstaille" not in m[2] for m in emails())
    client.post("/logout")
    login_as(world.aino_user)
    assert "Siirretään torstaille." in client.get("/clients/me/messages").get_data(as_text=True)


def test_a_message_to_the_provider_is_kept_with_the_order(client, db, world, login_as, run_jobs, emails):
    login_as(world.aino_user)
    page = client.get(f"/orders/{world.aino_order.id}").get_data(as_text=True)
    assert 'id="messages-h"' in page and "Kirkas Koti Oy" in page
    r = client.post(f"/clients/orders/{world.aino_order.id}/messages", data={"to": "provider", "body": "Ovikoodi vaihtui"})
    assert r.status_code == 302
    message = db.session.scalar(sa.select(Message))
    assert message.order_id == world.aino_order.id and message.to_provider_id == world.provider.id
    run_jobs()
    [(to, subject, body)] = emails()
    assert to == "info@kirkas.example.fi" and world.aino_order.number in subject and "Ovikoodi" not in body
    client.post("/logout")
    login_as(world.provider_member)
    page = client.get(f"/orders/{world.aino_order.id}").get_data(as_text=True)
    assert "Ovikoodi vaihtui" in page
    r = client.post(f"/clients/orders/{world.aino_order.id}/messages", data={"to": "client", "body": "Kiitos tiedosta"})
    assert r.status_code == 302
    client.post("/logout")
    login_as(world.other_member)
    assert client.get(f"/orders/{world.aino_order.id}").status_code == 404
    r = client.post(f"/clients/orders/{world.aino_order.id}/messages", data={"to": "client", "body": "Hei"})
    assert r.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 2


def test_an_empty_message_is_refused_and_the_page_keeps_what_was_chosen(client, db, world, login_as):
    login_as(world.aino_user)
    r = client.post("/clients/me/messages", data={"to": "worker", "body": "   "})
    assert r.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
    long = "x" * 4001
    r = client.post("/clients/me/messages", data={"to": "worker", "body": long})
    assert r.status_code == 422 and long in r.get_data(as_text=True)  # the typed text is not lost


def test_non_disclosure_contact_details_never_reach_an_email_or_message(client, db, world, login_as, run_jobs,
                                                                         emails):
    world.aino.non_disclosure = True
    db.session.commit()
    login_as(world.worker)
    client.post(f"/clients/{world.aino.id}/messages", data={"to": "client", "body": "Hei"})
    client.post(f"/clients/{world.aino.id}/handover", data={"new_worker_id": world.other_worker.id})
    client.post("/logout")
    login_as(world.aino_user)
    client.post("/clients/me/messages", data={"to": "worker", "body": "Kiitos"})
    client.post(f"/clients/orders/{world.aino_order.id}/messages", data={"to": "provider", "body": "Hei"})
    run_jobs()
    assert len(emails()) >= 5
    for _to, subject, body in emails():
        assert "Hämeenkatu" not in subject + body and "040 111 2222" not in subject + body
    client.post("/logout")
    login_as(world.other_worker)  # the new responsible worker sees the details
    page = client.get(f"/clients/{world.aino.id}").get_data(as_text=True)
    assert "Hämeenkatu 5 A 1" in page
    client.post("/logout")
    login_as(world.worker)  # the previous one no longer does
    page = client.get(f"/clients/{world.aino.id}").get_data(as_text=True)
    assert "Hämeenkatu 5 A 1" not in page and "040 111 2222" not in page
    assert "Protected (non-disclosure marking)" in page or "turvakielto" in page.lower()
