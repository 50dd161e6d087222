"""Administrators hide an abusive item (kept, with who hid it and why) and publish
it again; the public list and the average follow."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from feedback import services
from feedback.models import Feedback, FeedbackModerationEvent
from tests import factories as f

pytestmark = pytest.mark.smoke


@pytest.fixture
def published_item(client, db, order, make_link):
    _, token = make_link(order)
    response = client.post(f"/api/v1/feedback/{token}",
                           json={"rating": 3, "needs_met": True, "comment": "Hoitaja kertoi sairauksistaan"})
    assert response.status_code == 201
    return db.session.get(Feedback, response.get_json()["id"])


def test_admin_hides_with_a_reason_and_the_item_leaves_public_view(client, db, make_user, login_as, provider,
                                                                   published_item):
    admin = make_user("admin", name="Ylläpitäjä Anna")
    login_as(admin)
    page = client.get("/feedback/moderation")
    assert page.status_code == 200 and "Hoitaja kertoi sairauksistaan" in page.get_data(as_text=True)
    response = client.post(f"/feedback/moderation/{published_item.id}/hide", data={"reason": "Terveystietoja"})
    assert response.status_code == 303
    db.session.expire_all()
    item = db.session.get(Feedback, published_item.id)
    assert item.hidden_at is not None and item.hidden_by_id == admin.id and item.hidden_reason == "Terveystietoja"
    assert item.comment == "Hoitaja kertoi sairauksistaan"  # kept
    assert services.provider_rating(provider.id) == {"average": None, "count": 0}
    assert "sairauksistaan" not in client.get(f"/feedback/providers/{provider.id}").get_data(as_text=True)
    assert client.get(f"/api/v1/providers/{provider.id}/feedback").get_json()["items"] == []
    hidden_page = client.get("/feedback/moderation?show=hidden").get_data(as_text=True)
    assert "Ylläpitäjä Anna" in hidden_page and "Terveystietoja" in hidden_page


def test_hiding_needs_a_reason(client, db, make_user, login_as, published_item):
    login_as(make_user("admin"))
    response = client.post(f"/feedback/moderation/{published_item.id}/hide", data={"reason": "  "})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Feedback, published_item.id).hidden_at is None


def test_unhide_publishes_again_and_history_is_kept(client, db, make_user, login_as, provider, published_item):
    admin = make_user("admin")
    login_as(admin)
    client.post(f"/feedback/moderation/{published_item.id}/hide", data={"reason": "Tarkistettava"})
    assert client.post(f"/feedback/moderation/{published_item.id}/unhide").status_code == 303
    db.session.expire_all()
    assert db.session.get(Feedback, published_item.id).hidden_at is None
    assert services.provider_rating(provider.id) == {"average": 3.0, "count": 1}
    events = db.session.scalars(sa.select(FeedbackModerationEvent).order_by(FeedbackModerationEvent.id)).all()
    assert [(e.action, e.reason, e.actor_id) for e in events] == [("hide", "Tarkistettava", admin.id),
                                                                   ("unhide", None, admin.id)]
    assert len(client.get(f"/api/v1/providers/{provider.id}/feedback").get_json()["items"]) == 1


def test_hiding_twice_or_unhiding_a_published_item_is_refused_without_double_counting(db, provider, published_item):
    from core.errors import ConflictError

    admin = f.UserFactory(role="admin")
    services.hide_feedback(published_item.id, "syy", admin)
    with pytest.raises(ConflictError):
        services.hide_feedback(published_item.id, "syy", admin)
    services.unhide_feedback(published_item.id, admin)
    with pytest.raises(ConflictError):
        services.unhide_feedback(published_item.id, admin)
    db.session.commit()
    assert services.provider_rating(provider.id) == {"average": 3.0, "count": 1}


@pytest.mark.parametrize("role", ["staff", "provider", "client", "manager"])
def test_only_admins_moderate(client, db, make_user, login_as, published_item, role):
    login_as(make_user(role))
    assert client.get("/feedback/moderation").status_code == 403
    assert client.post(f"/feedback/moderation/{published_item.id}/hide", data={"reason": "x"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Feedback, published_item.id).hidden_at is None


def test_moderation_of_an_unknown_item_is_404(client, make_user, login_as):
    login_as(make_user("admin"))
    assert client.post("/feedback/moderation/999999/hide", data={"reason": "x"}).status_code == 404
