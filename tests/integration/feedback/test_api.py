"""The feedback API of API.md: GET/POST /feedback/{token} and
GET /providers/{id}/feedback."""

from __future__ import annotations

import pytest

from feedback.models import Feedback
from tests import factories as f

pytestmark = pytest.mark.smoke


def test_get_link_describes_the_order(client, order, make_link):
    _link, token = make_link(order)
    response = client.get(f"/api/v1/feedback/{token}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["order"] == {"number": order.number, "service": order.service_type.name_fi,
                             "provider": order.provider.name}
    assert body["expires_at"].endswith("Z")
    assert "Set-Cookie" not in response.headers


def test_unknown_token_is_404_in_the_error_shape(client, order, make_link):
    make_link(order)
    for path in ("/api/v1/feedback/" + "A" * 43, "/api/v1/feedback/x"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
        assert order.number not in response.get_data(as_text=True)
    assert client.post("/api/v1/feedback/" + "A" * 43, json={"rating": 5, "needs_met": True}).status_code == 404


def test_post_gives_feedback_once(client, order, make_link, count):
    _, token = make_link(order)
    response = client.post(f"/api/v1/feedback/{token}", json={"rating": 5, "needs_met": True, "comment": "Kiitos!"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["rating"] == 5 and body["needs_met"] is True and body["comment"] == "Kiitos!"
    again = client.post(f"/api/v1/feedback/{token}", json={"rating": 1, "needs_met": False})
    assert again.status_code == 410 and again.get_json()["error"]["code"] == "feedback_already_given"
    assert client.get(f"/api/v1/feedback/{token}").status_code == 410
    assert count(Feedback) == 1


def test_expired_link_is_410(client, order, make_link, count):
    _, token = make_link(order, expired=True)
    assert client.get(f"/api/v1/feedback/{token}").get_json()["error"]["code"] == "feedback_link_expired"
    response = client.post(f"/api/v1/feedback/{token}", json={"rating": 5, "needs_met": True})
    assert response.status_code == 410
    assert count(Feedback) == 0


@pytest.mark.parametrize("body,field", [
    ({"rating": 0, "needs_met": True}, "rating"),
    ({"rating": 6, "needs_met": True}, "rating"),
    ({"rating": "5", "needs_met": True}, "rating"),
    ({"rating": True, "needs_met": True}, "rating"),
    ({"rating": 4.5, "needs_met": True}, "rating"),
    ({"needs_met": True}, "rating"),
    ({"rating": 3}, "needs_met"),
    ({"rating": 3, "needs_met": "yes"}, "needs_met"),
    ({"rating": 3, "needs_met": True, "comment": "x" * 2001}, "comment"),
    ({"rating": 3, "needs_met": True, "comment": "x" * 50000}, "comment"),
    ({"rating": 3, "needs_met": True, "comment": 42}, "comment"),
])
def test_invalid_answers_are_422_naming_the_field(client, order, make_link, count, body, field):
    _, token = make_link(order)
    response = client.post(f"/api/v1/feedback/{token}", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert count(Feedback) == 0
    # The link is still usable afterwards.
    assert client.get(f"/api/v1/feedback/{token}").status_code == 200


def test_a_body_that_is_not_an_object_is_400(client, order, make_link):
    _, token = make_link(order)
    response = client.post(f"/api/v1/feedback/{token}", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_html_is_stripped_from_the_comment(client, order, make_link):
    _, token = make_link(order)
    body = client.post(f"/api/v1/feedback/{token}",
                       json={"rating": 4, "needs_met": True, "comment": "<img src=x onerror=alert(1)>Hyvä"}).get_json()
    assert body["comment"] == "Hyvä"


def test_api_submissions_are_rate_limited(app, client, order, make_link):
    app.config["FEEDBACK_MAX_ATTEMPTS_PER_ADDRESS"] = 2
    _, token = make_link(order)
    for _ in range(2):
        client.post("/api/v1/feedback/" + "Z" * 43, json={"rating": 5, "needs_met": True})
    response = client.post(f"/api/v1/feedback/{token}", json={"rating": 5, "needs_met": True})
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "rate_limited"


def test_provider_feedback_lists_published_items_newest_first(client, db, provider):
    admin = f.UserFactory(role="admin")
    old = f.FeedbackFactory(provider_id=provider.id, rating=5, comment="Hyvä", response="Kiitos palautteesta")
    hidden = f.FeedbackFactory(provider_id=provider.id, rating=1, comment="Loukkaava", hidden_by_id=admin.id,
                               hidden_reason="asiaton")
    from core.db import utcnow

    hidden.hidden_at = utcnow()
    new = f.FeedbackFactory(provider_id=provider.id, rating=3, comment=None)
    f.FeedbackFactory(rating=2)  # another provider's
    db.session.commit()
    response = client.get(f"/api/v1/providers/{provider.id}/feedback")
    assert response.status_code == 200
    body = response.get_json()
    assert [i["rating"] for i in body["items"]] == [3, 5]
    item = body["items"][1]
    assert {"rating", "comment", "response", "at"} <= set(item)
    assert item["comment"] == "Hyvä" and item["response"] == "Kiitos palautteesta"
    assert "Loukkaava" not in response.get_data(as_text=True)
    assert body["next"] is None
    assert new.id and old.id


def test_provider_feedback_pages_with_absolute_next_links(client, db, provider):
    for n in range(5):
        f.FeedbackFactory(provider_id=provider.id, rating=1 + n % 5)
    db.session.commit()
    first = client.get(f"/api/v1/providers/{provider.id}/feedback?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next"].startswith("http://kotiapu.test/api/v1/providers/")
    seen = [i["id"] for i in first["items"]]
    url = first["next"]
    while url:
        page = client.get(url.replace("http://kotiapu.test", "")).get_json()
        seen += [i["id"] for i in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5


def test_provider_feedback_of_unknown_or_unapproved_provider_is_404(client, db):
    pending = f.ProviderFactory(status="pending")
    db.session.commit()
    assert client.get("/api/v1/providers/999999/feedback").status_code == 404
    assert client.get(f"/api/v1/providers/{pending.id}/feedback").status_code == 404
    assert client.get("/api/v1/providers/1/feedback?limit=0").status_code in (404, 422)


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/feedback/{token}"])
    assert "get" in paths["/providers/{provider_id}/feedback"]
    assert paths["/feedback/{token}"]["post"]["security"] == []
