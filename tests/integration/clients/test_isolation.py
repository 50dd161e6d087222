"""A client (or a relative) can never reach another client's data, whatever ids they
try, in the pages, the downloads, the messages or the API."""

import pytest

pytestmark = pytest.mark.smoke

PORTAL_PAGES = ["/dashboard", "/clients/me/network", "/clients/me/access-log", "/clients/me/messages",
                "/clients/me/data", "/clients/me/data/export.json"]
STAFF_ONLY = ["/clients/", "/clients/{id}", "/clients/{id}/edit", "/clients/{id}/export.json", "/clients/access-log",
              "/clients/guidance-contacts", "/clients/{id}/network/new", "/clients/{id}/relatives/new"]
API = ["/api/v1/clients/{id}", "/api/v1/clients/{id}/access-log", "/api/v1/clients/{id}/export"]


def _secret_words(world):
    b = world.bertta
    return [b.first_name, b.address, b.email, world.bertta_user.email]


@pytest.mark.parametrize("who", ["aino_user", "relative"])
def test_trying_other_ids_in_the_portal_gives_404_and_never_their_data(client, db, world, login_as, who):
    user = getattr(world, who)
    login_as(user)
    own = {world.aino.id}
    ids = list(range(1, world.bertta.id + 5))
    for path in PORTAL_PAGES:
        for client_id in ids:
            r = client.get(f"{path}?client={client_id}")
            body = r.get_data(as_text=True)
            if client_id in own:
                relative_export = who == "relative" and path.endswith("export.json")
                assert r.status_code == (403 if relative_export else 200), (path, client_id)
            else:
                assert r.status_code == 404, (path, client_id, r.status_code)
            for word in _secret_words(world):
                assert word not in body, (path, client_id, word)


@pytest.mark.parametrize("who", ["aino_user", "relative"])
def test_the_api_refuses_other_clients(client, world, api_token, who):
    headers = api_token(getattr(world, who))
    for path in API:
        for client_id in range(1, world.bertta.id + 5):
            r = client.get(path.format(id=client_id), headers=headers)
            if client_id == world.aino.id:
                assert r.status_code in (200, 403), (path, client_id)  # a relative may not export
            else:
                assert r.status_code == 404, (path, client_id, r.status_code)
                assert world.bertta.first_name not in r.get_data(as_text=True)


@pytest.mark.parametrize("who", ["aino_user", "relative"])
def test_another_clients_order_and_its_messages_are_out_of_reach(client, db, world, login_as, who):
    from clients.models import Message
    import sqlalchemy as sa

    login_as(getattr(world, who))
    assert client.get(f"/orders/{world.bertta_order.id}").status_code == 404
    r = client.post(f"/clients/orders/{world.bertta_order.id}/messages", data={"to": "provider", "body": "Hei"})
    assert r.status_code == 404
    r = client.post("/clients/me/messages", data={"to": f"provider:{world.bertta_order.id}", "body": "Hei"})
    assert r.status_code in (404, 422)  # not one of the recipients offered
    assert world.bertta.first_name not in r.get_data(as_text=True)
    r = client.post(f"/clients/me/messages?client={world.bertta.id}", data={"to": "worker", "body": "Hei"})
    assert r.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


@pytest.mark.parametrize("who", ["aino_user", "relative", "provider_member"])
def test_staff_pages_are_closed_to_other_roles(client, world, login_as, who):
    login_as(getattr(world, who))
    for path in STAFF_ONLY:
        assert client.get(path.format(id=world.aino.id)).status_code == 403, path
    assert client.post(f"/clients/{world.aino.id}/consent", data={"consent": "no"}).status_code == 403
    assert client.post(f"/clients/{world.aino.id}/erase").status_code == 403


def test_a_provider_sees_no_client_portal(client, world, login_as):
    login_as(world.provider_member)
    for path in PORTAL_PAGES[1:]:  # /dashboard is every role's own
        assert client.get(path).status_code == 403, path


def test_erasure_request_for_another_client_is_404(client, db, world, login_as):
    login_as(world.aino_user)
    r = client.post(f"/clients/me/data/erasure?client={world.bertta.id}", data={"confirm": "y"})
    assert r.status_code == 404
    db.session.expire_all()
    assert world.bertta.erasure_requested_at is None
