"""Irreversible actions confirm (issue 13, point 2): the first POST shows what will
happen on a page rendered by the server and changes nothing; only the second POST,
from that page's own form, acts. Completing an ongoing order says so and asks for
the reason; who may complete is the organisation's setting (administrators only by
default), enforced by ``orders.policy``."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.errors import PermissionDenied
from orders import services
from orders.models import Offer, OrderEvent, ServiceOrder


def _running(market, place, db, **kw):
    order = place(start_date=date.today(), **kw)
    services.accept_offer(market.members[0], order.id)
    services.record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[])
    db.session.commit()
    return order


def _status(db, order):
    db.session.expire_all()
    return db.session.get(ServiceOrder, order.id).status


def _hidden_fields(html: str) -> dict:
    """The confirmation form's hidden inputs, as a browser would send them."""
    form = html[html.index('<form method="post"', html.index("What will happen")):]
    form = form[:form.index("</form>")]
    return dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))


@pytest.mark.smoke
def test_completing_an_ongoing_order_says_so_asks_the_reason_and_confirms(client, db, market, place, login_as):
    order = _running(market, place, db)  # no end date: ongoing
    login_as(market.members[0])
    page = client.get(f"/orders/{order.id}?lang=en").get_data(as_text=True)
    assert "This order has no end date: the service is ongoing." in page
    first = client.post(f"/orders/{order.id}/complete?lang=en", data={"reason": ""})
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and f"Complete order {order.number}?" in html
    assert "The client gets a one-time link to give feedback." in html and "This cannot be undone." in html
    assert "Completing it now ends the service early. Say why." in html and 'name="reason"' in html
    assert _status(db, order) == "in_progress"  # the first step changes nothing
    hidden = _hidden_fields(html)
    assert hidden["confirmed"] == "yes"
    # Confirmed without a reason: the confirmation page again, with the error on the field.
    again = client.post(f"/orders/{order.id}/complete?lang=en", data={**hidden, "reason": ""})
    assert again.status_code == 422 and 'aria-invalid="true"' in again.get_data(as_text=True)
    assert _status(db, order) == "in_progress"
    done = client.post(f"/orders/{order.id}/complete", data={**hidden, "reason": "Asiakas muutti palvelutaloon"})
    assert done.status_code == 302 and _status(db, order) == "completed"
    event = db.session.scalar(sa.select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                          OrderEvent.action == "complete"))
    assert event.note == "Asiakas muutti palvelutaloon"


def test_a_finished_order_completes_without_a_reason(db, market, place):
    order = _running(market, place, db, end_date=date.today())
    services.complete_order(market.members[0], order.id)
    db.session.commit()
    assert _status(db, order) == "completed"


def test_the_service_refuses_an_ongoing_completion_without_a_reason(db, market, place):
    order = _running(market, place, db, end_date=date.today() + timedelta(days=30))  # visits still planned
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        services.complete_order(market.members[0], order.id)
    assert exc.value.code == "reason_required"


@pytest.mark.smoke
def test_only_administrators_complete_unless_the_organisation_allows_members(client, db, market, place, login_as,
                                                                             make_user):
    worker = make_user("provider", provider=market.providers[0], provider_role="worker")
    db.session.commit()
    order = _running(market, place, db)
    with pytest.raises(PermissionDenied):
        services.complete_order(worker, order.id, "Loppui")
    db.session.rollback()
    login_as(worker)
    page = client.get(f"/orders/{order.id}?lang=en").get_data(as_text=True)
    assert "Mark the order completed" not in page
    assert "Only your organisation's administrators can mark this order completed." in page
    # Not asked to confirm what they may not do: refused at once, with the reason.
    r = client.post(f"/orders/{order.id}/complete?lang=en", data={"reason": "x"}, follow_redirects=True)
    assert "What will happen" not in r.get_data(as_text=True)
    assert "administrators can complete orders" in r.get_data(as_text=True)
    assert _status(db, order) == "in_progress"
    client.post("/logout")
    # An administrator lets every member complete orders.
    login_as(market.members[0])
    assert client.post("/organisation/completion", data={"cmp-completion_by": "members"}).status_code == 302
    db.session.expire_all()
    assert market.providers[0].completion_by == "members"
    client.post("/logout")
    login_as(worker)
    client.post(f"/orders/{order.id}/complete", data={"reason": "Asiakas toipui", "confirmed": "yes"})
    assert _status(db, order) == "completed"


def test_a_worker_cannot_change_the_setting(client, db, market, login_as, make_user):
    worker = make_user("provider", provider=market.providers[0], provider_role="worker")
    db.session.commit()
    login_as(worker)
    assert client.post("/organisation/completion", data={"cmp-completion_by": "members"}).status_code == 403
    db.session.expire_all()
    assert market.providers[0].completion_by == "admins"


@pytest.mark.parametrize("action,data,who,before,after,question", [
    ("cancel", {"reason": "Asiakas muutti"}, "staff", "offered", "cancelled", "Cancel order"),
    ("decline", {"reason": "Ei kapasiteettia"}, "provider", "pending", "declined", "Decline order"),
])
def test_cancel_and_decline_ask_first(client, db, market, place, login_as, action, data, who, before, after,
                                      question):
    order = place(provider_ids=[market.providers[0].id])
    login_as(market.staff if who == "staff" else market.members[0])

    def state():
        db.session.expire_all()
        if action == "decline":
            return db.session.scalar(sa.select(Offer.status).where(Offer.order_id == order.id))
        return db.session.get(ServiceOrder, order.id).status

    first = client.post(f"/orders/{order.id}/{action}?lang=en", data=data)
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and f"{question} {order.number}?" in html and data["reason"] in html
    assert state() == before
    assert client.post(f"/orders/{order.id}/{action}", data=_hidden_fields(html)).status_code == 302
    assert state() == after


def test_closing_asks_first(client, db, market, place, login_as):
    order = _running(market, place, db, end_date=date.today())
    services.complete_order(market.members[0], order.id)
    db.session.commit()
    login_as(market.staff)
    first = client.post(f"/orders/{order.id}/close?lang=en", data={"outcome": "received"})
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and f"Close order {order.number}?" in html
    assert _status(db, order) == "completed"
    client.post(f"/orders/{order.id}/close", data=_hidden_fields(html))
    assert _status(db, order) == "closed"


def test_an_invalid_first_step_is_refused_without_a_confirmation_page(client, db, market, place, login_as):
    order = place()
    login_as(market.staff)
    r = client.post(f"/orders/{order.id}/cancel?lang=en", data={"reason": ""}, follow_redirects=True)
    assert "What will happen" not in r.get_data(as_text=True)
    assert _status(db, order) == "offered"
