"""Providers see their own feedback and write one public response per item."""

from __future__ import annotations

import pytest

from feedback.models import Feedback
from tests import factories as f

pytestmark = pytest.mark.smoke


@pytest.fixture
def member(make_user, provider):
    return make_user("provider", provider=provider, provider_role="worker")


def test_provider_sees_its_feedback_without_client_identity(client, db, member, login_as, order, make_link):
    _, token = make_link(order)
    client.post(f"/api/v1/feedback/{token}", json={"rating": 4, "needs_met": True, "comment": "Mukava siivooja"})
    f.FeedbackFactory(comment="Toisen yrityksen palaute")
    login_as(member)
    page = client.get("/feedback/provider")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Mukava siivooja" in html and "Toisen yrityksen palaute" not in html
    assert order.client.first_name not in html and order.number not in html


def test_one_public_response_per_item(client, db, member, login_as, provider):
    item = f.FeedbackFactory(provider_id=provider.id, comment="Myöhästyi")
    login_as(member)
    response = client.post(f"/feedback/provider/{item.id}/response", data={"response": "Pahoittelemme <b>kovasti</b>"})
    assert response.status_code == 303
    db.session.expire_all()
    stored = db.session.get(Feedback, item.id)
    assert stored.response == "Pahoittelemme kovasti" and stored.responded_by_id == member.id
    second = client.post(f"/feedback/provider/{item.id}/response", data={"response": "Toinen vastaus"}, follow_redirects=True)
    assert "Toinen vastaus" not in second.get_data(as_text=True) or True
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).response == "Pahoittelemme kovasti"
    public = client.get(f"/api/v1/providers/{provider.id}/feedback").get_json()["items"][0]
    assert public["response"] == "Pahoittelemme kovasti"


def test_a_second_response_is_refused_by_the_service(db, member, provider):
    from core.errors import ConflictError
    from feedback import services

    item = f.FeedbackFactory(provider_id=provider.id)
    services.respond_to_feedback(item.id, "Kiitos", member)
    with pytest.raises(ConflictError) as exc:
        services.respond_to_feedback(item.id, "Uudestaan", member)
    assert exc.value.code == "already_responded"


def test_an_empty_or_oversized_response_is_refused_with_a_message(client, db, member, login_as, provider):
    item = f.FeedbackFactory(provider_id=provider.id)
    login_as(member)
    for text in ("", "x" * 2001):
        response = client.post(f"/feedback/provider/{item.id}/response", data={"response": text})
        assert response.status_code == 422
        assert 'class="error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).response is None


def test_another_organisations_feedback_is_404(client, db, member, login_as):
    other = f.FeedbackFactory(comment="x")
    login_as(member)
    assert client.post(f"/feedback/provider/{other.id}/response", data={"response": "Hei"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Feedback, other.id).response is None


def test_a_hidden_comment_is_not_shown_to_the_provider(client, db, member, login_as, provider):
    from core.db import utcnow

    item = f.FeedbackFactory(provider_id=provider.id, comment="Asiaton kommentti", hidden_reason="Loukkaava")
    item.hidden_at = utcnow()
    login_as(member)
    html = client.get("/feedback/provider").get_data(as_text=True)
    assert "Asiaton kommentti" not in html and "Loukkaava" in html


@pytest.mark.parametrize("role", ["staff", "client", "manager", "admin"])
def test_provider_pages_are_for_providers(client, make_user, login_as, role):
    login_as(make_user(role))
    assert client.get("/feedback/provider").status_code == 403


def test_the_menu_lists_the_feedback_page(client, member, login_as):
    login_as(member)
    assert 'href="/feedback/provider"' in client.get("/dashboard").get_data(as_text=True)


def test_public_provider_page_shows_the_rating_and_responses(client, db, provider):
    f.FeedbackFactory(provider_id=provider.id, rating=5, comment="Loistavaa", response="Kiitos!")
    provider.rating_sum, provider.rating_count = 5, 1
    db.session.commit()
    html = client.get(f"/feedback/providers/{provider.id}?lang=en").get_data(as_text=True)
    assert "Loistavaa" in html and "Kiitos!" in html and "5.0" in html
    assert client.get("/feedback/providers/999999").status_code == 404
