"""Issue 13, point 7: staff see a used feedback link as used (with when), not as a
link to hand out again."""

from __future__ import annotations

from datetime import date

import pytest

from feedback.services import feedback_url_for_order, submit_feedback
from orders import services

pytestmark = pytest.mark.smoke


def test_staff_see_a_used_link_as_used(client, db, market, place, login_as):
    order = place(start_date=date.today(), end_date=date.today())
    services.accept_offer(market.members[0], order.id)
    services.record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[])
    services.complete_order(market.members[0], order.id)
    db.session.commit()
    url = feedback_url_for_order(order.id)
    login_as(market.staff)
    page = client.get(f"/orders/{order.id}?lang=en").get_data(as_text=True)
    assert url in page and ">Used<" not in page
    submit_feedback(url.rsplit("/", 1)[1], rating=4, needs_met=True)
    db.session.commit()
    page = client.get(f"/orders/{order.id}?lang=en").get_data(as_text=True)
    assert ">Used<" in page and "The client gave feedback through this link on" in page
    assert url not in page
