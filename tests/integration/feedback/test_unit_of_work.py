"""The feedback pages under the request's unit of work: a refused form shown again
keeps its access-log row and nothing else; the pages offer only the actions the
policy allows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.models import AccessLogEntry
from feedback.models import Feedback

pytestmark = pytest.mark.smoke


def _rows(db, client_id):
    db.session.expire_all()
    return db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == client_id)).all()


def test_a_refused_phone_form_logs_the_client_shown_once_and_stores_nothing(client, db, order, make_user,
                                                                           login_as, count):
    login_as(make_user("staff"))
    page = client.post(f"/feedback/orders/{order.id}/by-phone", data={"rating": "9", "needs_met": "yes"})
    assert page.status_code == 422 and order.client.first_name in page.get_data(as_text=True)
    rows = _rows(db, order.client_id)
    assert [(r.action, r.purpose) for r in rows] == [("view", "recording feedback")]
    assert count(Feedback) == 0


def test_a_recorded_phone_feedback_is_committed_with_its_access_row(client, db, order, make_user, login_as, count):
    staff = make_user("staff")
    login_as(staff)
    response = client.post(f"/feedback/orders/{order.id}/by-phone", data={"rating": "4", "needs_met": "no"})
    assert response.status_code == 303
    assert count(Feedback) == 1
    assert [r.action for r in _rows(db, order.client_id)] == ["create"]


def test_the_order_page_offers_recording_only_while_no_feedback_is_given(client, db, order, make_link, make_user,
                                                                        login_as):
    _, token = make_link(order)
    login_as(make_user("staff"))
    url = f"/feedback/orders/{order.id}/by-phone"
    assert url in client.get(f"/feedback/orders/{order.id}").get_data(as_text=True)
    client.post(f"/api/v1/feedback/{token}", json={"rating": 4, "needs_met": True})
    assert url not in client.get(f"/feedback/orders/{order.id}").get_data(as_text=True)


def test_an_answered_item_has_no_response_form(client, db, order, make_link, login_as, make_user):
    from feedback.services import respond_to_feedback, submit_feedback

    _, token = make_link(order)
    feedback = submit_feedback(token, rating=3, needs_met=True)
    member = make_user("provider", provider_id=order.provider_id)
    db.session.commit()
    login_as(member)
    form = f"/feedback/provider/{feedback.id}/response"
    assert form in client.get("/feedback/provider").get_data(as_text=True)
    respond_to_feedback(feedback.id, "Kiitos palautteesta", member)
    db.session.commit()
    assert form not in client.get("/feedback/provider").get_data(as_text=True)
