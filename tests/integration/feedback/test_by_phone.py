"""Staff record feedback given by phone on the client's behalf, marked as such."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.models import AccessLogEntry, OutgoingEmail
from feedback.models import Feedback, FeedbackLink

pytestmark = pytest.mark.smoke


def _answers(**kw):
    data = {"rating": "5", "needs_met": "yes", "comment": "Soitti ja kiitteli"}
    data.update(kw)
    return data


def test_staff_record_feedback_by_phone(client, db, order, make_link, make_user, login_as, count):
    link, token = make_link(order)
    staff = make_user("staff")
    login_as(staff)
    page = client.get(f"/feedback/orders/{order.id}/by-phone")
    assert page.status_code == 200 and order.client.first_name in page.get_data(as_text=True)
    response = client.post(f"/feedback/orders/{order.id}/by-phone", data=_answers())
    assert response.status_code == 303
    db.session.expire_all()
    feedback = db.session.scalar(sa.select(Feedback))
    assert feedback.recorded_by_id == staff.id and feedback.rating == 5 and feedback.link_id == link.id
    # The client's own link now says feedback was already given.
    assert client.get(f"/api/v1/feedback/{token}").status_code == 410
    assert db.session.scalar(sa.select(AccessLogEntry).where(AccessLogEntry.action == "create",
                                                             AccessLogEntry.actor_id == staff.id)) is not None
    overview = client.get(f"/feedback/orders/{order.id}").get_data(as_text=True)
    assert "Soitti ja kiitteli" in overview and (staff.name in overview)
    # A second recording is not possible.
    again = client.get(f"/feedback/orders/{order.id}/by-phone")
    assert again.status_code == 302
    assert client.post(f"/feedback/orders/{order.id}/by-phone", data=_answers()).status_code == 302
    assert count(Feedback) == 1


def test_by_phone_works_after_the_link_expired_and_without_any_link(client, db, make_order, make_link, make_user,
                                                                    login_as, count):
    expired_order, no_link_order = make_order(), make_order()
    make_link(expired_order, expired=True)
    login_as(make_user("staff"))
    for order in (expired_order, no_link_order):
        assert client.post(f"/feedback/orders/{order.id}/by-phone", data=_answers()).status_code == 303
    assert count(Feedback) == 2
    assert count(FeedbackLink) == 2
    assert count(OutgoingEmail) == 0  # no invitation for a link made by staff


def test_client_has_already_given_feedback(client, db, order, make_link, make_user, login_as, count):
    _, token = make_link(order)
    client.post(f"/api/v1/feedback/{token}", json={"rating": 4, "needs_met": True})
    login_as(make_user("staff"))
    response = client.post(f"/feedback/orders/{order.id}/by-phone", data=_answers(), follow_redirects=True)
    assert response.status_code == 200
    assert count(Feedback) == 1


def test_only_completed_orders(client, make_order, make_user, login_as, count):
    order = make_order(status="in_progress")
    login_as(make_user("staff"))
    assert client.post(f"/feedback/orders/{order.id}/by-phone", data=_answers()).status_code == 409
    assert count(Feedback) == 0


def test_low_phone_feedback_opens_a_follow_up_too(client, db, order, make_user, login_as, worker):
    from clients.models import FollowUp

    login_as(make_user("staff"))
    client.post(f"/feedback/orders/{order.id}/by-phone", data=_answers(rating="1", needs_met="no"))
    db.session.expire_all()
    assert db.session.scalar(sa.select(FollowUp.assigned_to_id).where(FollowUp.kind == "feedback")) == worker.id


def test_bad_answers_are_422(client, order, make_user, login_as, count):
    login_as(make_user("staff"))
    assert client.post(f"/feedback/orders/{order.id}/by-phone", data=_answers(rating="7")).status_code == 422
    assert client.post(f"/feedback/orders/{order.id}/by-phone", data=_answers(comment="y" * 2001)).status_code == 422
    assert count(Feedback) == 0


@pytest.mark.parametrize("role", ["provider", "client", "manager", "admin"])
def test_only_staff(client, order, make_user, login_as, role, count):
    login_as(make_user(role))
    assert client.post(f"/feedback/orders/{order.id}/by-phone", data=_answers()).status_code == 403
    assert client.get(f"/feedback/orders/{order.id}").status_code == 403
    assert count(Feedback) == 0


def test_service_refuses_non_staff(db, order, make_user):
    from core.errors import PermissionDenied
    from feedback.services import record_feedback_by_phone

    with pytest.raises(PermissionDenied):
        record_feedback_by_phone(order.id, 5, True, None, make_user("provider"))


def test_staff_see_the_link_to_read_out(client, db, order, make_link, make_user, login_as):
    _, token = make_link(order)
    login_as(make_user("staff"))
    html = client.get(f"/feedback/orders/{order.id}").get_data(as_text=True)
    assert f"http://kotiapu.test/feedback/{token}" in html
    assert f"/feedback/orders/{order.id}/by-phone" in html
    assert client.get("/feedback/orders/999999").status_code == 404
