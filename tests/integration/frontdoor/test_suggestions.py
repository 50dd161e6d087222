"""The needs self-assessment: the rules that turn answers into a suggested segment
and services are data an administrator reads and changes on a page; staff confirm
the suggestion or change it, and the reason is kept."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from frontdoor import services
from frontdoor.models import HelpRequest, NeedsAssessment, SuggestionRule
from tests import factories as f
from tests.integration.frontdoor.conftest import body


@pytest.mark.smoke
def test_the_suggestion_is_the_most_intensive_matching_segment_and_the_rules_services(db, rules):
    cleaning = f.ServiceTypeFactory(name_fi="Siivous", slug="siivous")
    meals = f.ServiceTypeFactory(name_fi="Ateriapalvelu", slug="ateriat")
    retired = f.ServiceTypeFactory(name_fi="Vanha palvelu", slug="vanha", active=False)
    admin = rules["admin"]
    services.save_rule(admin, None, {"question": "daily_tasks", "answer": "some_help", "service_type_id": cleaning.id})
    services.save_rule(admin, None, {"question": "helpers", "answer": "nobody", "service_type_id": meals.id})
    services.save_rule(admin, None, {"question": "helpers", "answer": "nobody", "service_type_id": retired.id})
    assert services.suggest({}) == {"segment": "independent", "service_type_ids": [], "rule_ids": []}
    some = services.suggest({"daily_tasks": "some_help", "worry": "being_alone"})
    assert some["segment"] == "guidance" and some["service_type_ids"] == [cleaning.id]
    both = services.suggest({"daily_tasks": "some_help", "helpers": "nobody", "complexity": "high"})
    assert both["segment"] == "intensive" and both["service_type_ids"] == [cleaning.id, meals.id]
    assert rules["high"].id in both["rule_ids"] and rules["some_help"].id in both["rule_ids"]
    # A rule that is not in use suggests nothing.
    services.save_rule(admin, rules["high"].id, {"question": "complexity", "answer": "high", "segment": "intensive",
                                                 "active": False})
    assert services.suggest({"complexity": "high"})["segment"] == "independent"


def test_an_administrator_reads_and_changes_the_rules_on_a_page(client, db, rules, login_as, make_user):
    login_as(rules["admin"])
    page = client.get("/front-door/rules?lang=en").get_data(as_text=True)
    assert "I need help every day" in page and "Needs intensive coordination" in page
    # A rule must suggest something, and the answer must belong to the question.
    bad = client.post("/front-door/rules?lang=en", data={"question": "helpers", "answer": "help_every_day",
                                                          "segment": "", "service_type_id": ""})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Choose one of the answers to this question." in text
    added = client.post("/front-door/rules", data={"question": "worry", "answer": "being_alone", "segment": "guidance",
                                                   "service_type_id": "", "note": "Yksinäisyys", "active": "y"})
    assert added.status_code == 302
    rule = db.session.scalar(sa.select(SuggestionRule).where(SuggestionRule.answer == "being_alone"))
    assert rule.segment == "guidance" and rule.updated_by_id == rules["admin"].id
    edited = client.post(f"/front-door/rules/{rule.id}", data={"question": "worry", "answer": "being_alone",
                                                                 "segment": "intensive", "service_type_id": "",
                                                                 "note": "Yksin ja huolissaan", "active": "y"})
    assert edited.status_code == 302
    db.session.expire_all()
    assert db.session.get(SuggestionRule, rule.id).segment == "intensive"
    rule_id = rule.id
    assert client.post(f"/front-door/rules/{rule_id}/delete").status_code == 302
    db.session.expunge_all()
    assert db.session.get(SuggestionRule, rule_id) is None
    # Staff do not change the rules.
    client.post("/logout")
    login_as(make_user("staff"))
    assert client.get("/front-door/rules").status_code == 403


@pytest.mark.smoke
def test_staff_confirm_or_change_the_suggestion_and_the_reason_is_kept(client, db, rules, login_as, make_user):
    home_help = f.ServiceTypeFactory(name_fi="Kotiapu", slug="kotiapu-palvelu")
    services.save_rule(rules["admin"], None, {"question": "daily_tasks", "answer": "help_every_day",
                                              "service_type_id": home_help.id})
    db.session.commit()
    ref = client.post("/api/v1/help-requests", json=body()).get_json()["reference"]
    req = db.session.scalar(sa.select(HelpRequest).where(HelpRequest.reference == ref))
    staff = make_user("staff")
    login_as(staff)
    client.post(f"/front-door/{req.id}/claim")
    client.post(f"/front-door/{req.id}/assessment", data={"daily_tasks": "help_every_day", "helpers": "family",
                                                          "complexity": "medium"})
    db.session.expire_all()
    assessment = db.session.scalar(sa.select(NeedsAssessment).where(NeedsAssessment.request_id == req.id))
    assert assessment.suggested_segment == "intensive" and assessment.suggested_service_type_ids == [home_help.id]
    page = client.get(f"/front-door/{req.id}?lang=en").get_data(as_text=True)
    assert "Needs intensive coordination" in page and "Kotiapu" in page
    # A change without a reason is refused and named; the choice made is still there.
    refused = client.post(f"/front-door/{req.id}/confirm?lang=en", data={"segment": "guidance"})
    assert refused.status_code == 422
    assert "Say why you chose differently from the suggestion." in refused.get_data(as_text=True)
    assert client.post(f"/front-door/{req.id}/confirm", data={
        "segment": "guidance", "reason": "Tytär käy päivittäin; ohjaus riittää."}).status_code == 302
    db.session.expire_all()
    assessment = db.session.get(NeedsAssessment, assessment.id)
    assert assessment.confirmed_segment == "guidance" and assessment.confirmed_service_type_ids == []
    assert assessment.reason == "Tytär käy päivittäin; ohjaus riittää." and assessment.confirmed_by_id == staff.id
    # The confirmed segment is what the client record starts with.
    convert_page = client.get(f"/front-door/{req.id}/convert").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="segment"[^>]*value="guidance"', convert_page)
    # Confirming as suggested needs no reason.
    assert client.post(f"/front-door/{req.id}/confirm", data={
        "segment": "intensive", "service_type_ids": [str(home_help.id)]}).status_code == 302
    db.session.expire_all()
    assessment = db.session.get(NeedsAssessment, assessment.id)
    assert assessment.confirmed_segment == "intensive" and assessment.reason is None
