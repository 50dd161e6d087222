"""The forms of the order page show a refusal in place (issue 20, point 5): the order
page comes back with status 422, what was typed still in the form, an error summary
whose links reach the fields, and each field with an error marked aria-invalid and
tied to its message by aria-describedby. Nothing is changed."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from orders import services
from clients.models import Concern
from orders.models import ServiceOrder, VisitReport

pytestmark = pytest.mark.smoke


def _running(market, place, db):
    order = place(start_date=date.today())
    services.accept_offer(market.members[0], order.id)
    db.session.commit()
    return order


def _summary_links(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert summary, "no error summary on the page"
    return re.findall(r'href="#([^"]+)"', summary.group(1))


def _assert_links_reach_fields(html: str) -> list[str]:
    links = _summary_links(html)
    assert links
    for target in links:
        assert f'id="{target}"' in html, f"the summary links to #{target}, which is not on the page"
    return links


def _tag(html: str, element_id: str) -> str:
    match = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, f"no control with id {element_id}"
    return match.group(0)


def test_an_empty_visit_report_comes_back_with_its_errors_and_what_was_typed(client, db, market, place, login_as):
    order = _running(market, place, db)
    login_as(market.members[0])
    r = client.post(f"/orders/{order.id}/visits?lang=en", data={
        "date": "", "minutes": "", "tasks": "Siivous, kauppa", "note": "Asiakas oli hyvällä tuulella"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert set(_assert_links_reach_fields(html)) == {"visit-date", "visit-minutes"}
    assert "Date of the visit: Give the date of the visit." in html
    assert "Minutes: Give the length of the visit in minutes." in html
    minutes = _tag(html, "visit-minutes")
    assert 'aria-invalid="true"' in minutes and 'aria-describedby="visit-minutes-error"' in minutes
    assert 'id="visit-minutes-error"' in html
    # What was typed is kept, in the form it was typed in.
    assert 'value="Siivous, kauppa"' in _tag(html, "tasks")
    assert "Asiakas oli hyvällä tuulella</textarea>" in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitReport)) == 0


def test_a_concern_without_its_text_is_shown_at_its_fields(client, db, market, place, login_as):
    order = _running(market, place, db)
    login_as(market.members[0])
    r = client.post(f"/orders/{order.id}/visits?lang=en", data={
        "date": date.today().isoformat(), "minutes": "45", "concern": "yes", "concern_text": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    links = _assert_links_reach_fields(html)
    assert "concern_text" in links and "urgency-0" in links
    assert 'aria-invalid="true"' in _tag(html, "concern_text")
    assert 'value="45"' in _tag(html, "visit-minutes")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Concern)) == 0


def test_decline_without_a_reason_is_shown_in_place(client, db, market, place, login_as):
    order = place()
    login_as(market.members[0])
    r = client.post(f"/orders/{order.id}/decline?lang=en", data={"reason": "   "})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert _assert_links_reach_fields(html) == ["decline-reason"]
    assert 'aria-invalid="true"' in _tag(html, "decline-reason")
    assert "Reason for declining: Give a reason." in html
    db.session.expire_all()
    assert {o.status for o in db.session.get(ServiceOrder, order.id).offers} == {"pending"}


def test_cancel_without_a_reason_is_shown_in_place(client, db, market, place, login_as):
    order = place()
    login_as(market.staff)
    r = client.post(f"/orders/{order.id}/cancel?lang=en", data={"reason": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert _assert_links_reach_fields(html) == ["cancel-reason"]
    assert 'aria-invalid="true"' in _tag(html, "cancel-reason")
    assert "What will happen" not in html
    db.session.expire_all()
    assert db.session.get(ServiceOrder, order.id).status == "offered"


def _completed(market, place, db):
    order = place(start_date=date.today())
    services.accept_offer(market.members[0], order.id)
    services.record_visit(market.members[0], order.id, visit_date=date.today(), minutes=30, tasks=[])
    services.complete_order(market.members[0], order.id, "Asiakas muutti")
    db.session.commit()
    return order


def test_closing_the_loop_without_an_outcome_links_to_the_first_choice(client, db, market, place, login_as):
    order = _completed(market, place, db)
    login_as(market.staff)
    r = client.post(f"/orders/{order.id}/close?lang=en", data={"note": "Soitin asiakkaalle"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert _assert_links_reach_fields(html) == ["outcome-0"]
    assert "Soitin asiakkaalle</textarea>" in html


def test_not_received_without_a_note_is_shown_at_the_note_after_confirming(client, db, market, place, login_as):
    order = _completed(market, place, db)
    login_as(market.staff)
    r = client.post(f"/orders/{order.id}/close?lang=en", data={"outcome": "not_received", "confirmed": "yes"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert _assert_links_reach_fields(html) == ["close-note"]
    assert 'aria-invalid="true"' in _tag(html, "close-note")
    # The choice made is kept.
    assert "checked" in _tag(html, "outcome-1")
    db.session.expire_all()
    assert db.session.get(ServiceOrder, order.id).status == "completed"


def test_an_empty_message_comes_back_on_the_order_page(client, db, market, place, login_as):
    from clients.models import Message

    order = place()
    login_as(market.staff)
    r = client.post(f"/clients/orders/{order.id}/messages?lang=en", data={"to": "client", "body": "  "})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Messages about this service" in html
    assert _assert_links_reach_fields(html) == ["msg-body"]
    body = _tag(html, "msg-body")
    assert 'aria-invalid="true"' in body and "msg-body-error" in body
    assert "Message: Write your message." in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
    sent = client.post(f"/clients/orders/{order.id}/messages", data={"to": "client", "body": "Soitan huomenna"})
    assert sent.status_code == 302


def _escalated(market, place, db):
    """An order its only provider declined: staff may offer it again."""
    order = place(provider_ids=[market.providers[0].id])
    services.decline_offer(market.members[0], order.id, "Ei resursseja")
    db.session.commit()
    assert db.session.get(ServiceOrder, order.id).status == "escalated"
    return order


def test_a_refused_reoffer_is_shown_in_place_with_what_was_ticked(client, db, market, place, login_as):
    order = _escalated(market, place, db)
    login_as(market.staff)
    already = market.providers[0].id  # declined already: not eligible any more
    kept = market.providers[2].id
    r = client.post(f"/orders/{order.id}/reoffer?lang=en",
                    data={"provider_ids": [str(kept), str(already)], "mode": "ranked"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Nobody accepted: offer again" in html
    assert _assert_links_reach_fields(html) == ["reoffer-provider_ids-0"]  # the group's first checkbox
    assert f"Provider {already} cannot get this order." in html
    # Each checkbox of the group is marked invalid, and the group is tied to its message.
    first = _tag(html, "reoffer-provider_ids-0")
    assert 'type="checkbox"' in first and 'aria-invalid="true"' in first
    assert re.search(r'<fieldset[^>]*aria-describedby="reoffer-provider_ids-error"', html)
    assert 'id="reoffer-provider_ids-error"' in html
    # What was chosen is kept: the eligible provider still ticked, the mode still "one at a time".
    ticked = re.search(rf'<input[^>]*value="{kept}"[^>]*>', html).group(0)
    assert "checked" in ticked
    assert "checked" in _tag(html, "reoffer-mode-1")
    assert "checked" not in _tag(html, "reoffer-mode-0")
    # The listed choices are the eligible providers with their rating and price.
    assert "Palvelu 1 Oy" in html and "Palvelu 2 Oy" in html
    db.session.expire_all()
    assert db.session.get(ServiceOrder, order.id).status == "escalated"
    assert len(db.session.get(ServiceOrder, order.id).offers) == 1


def test_a_reoffer_with_an_unknown_mode_names_the_field(client, db, market, place, login_as):
    order = _escalated(market, place, db)
    login_as(market.staff)
    r = client.post(f"/orders/{order.id}/reoffer?lang=en", data={"mode": "lottery"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert _assert_links_reach_fields(html) == ["reoffer-mode-0"]
    assert "How to offer:" in html
    db.session.expire_all()
    assert db.session.get(ServiceOrder, order.id).status == "escalated"


def test_a_valid_reoffer_still_offers_and_goes_back_to_the_order(client, db, market, place, login_as):
    order = _escalated(market, place, db)
    login_as(market.staff)
    page = client.get(f"/orders/{order.id}?lang=en").get_data(as_text=True)
    assert 'id="reoffer-provider_ids-0"' in page and "–" in page
    r = client.post(f"/orders/{order.id}/reoffer?lang=en", data={"provider_ids": [str(market.providers[1].id)],
                                                                 "mode": "broadcast"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/orders/{order.id}")
    db.session.expire_all()
    assert db.session.get(ServiceOrder, order.id).status == "offered"
