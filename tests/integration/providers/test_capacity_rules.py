"""Capacity (new orders per week per service type) and automatic-acceptance rules:
validated, scoped to the organisation, changed only by its administrators."""

import pytest
import sqlalchemy as sa

from core.errors import NotFoundError, PermissionDenied, ValidationFailed
from providers import services as svc
from providers.models import AutoAcceptRule, ProviderCapacity
from tests import factories as f

pytestmark = pytest.mark.smoke


@pytest.fixture
def cleaning(db, org):
    service = f.ServiceTypeFactory(name_en="Cleaning")
    f.OfferingFactory(provider=org, service_type=service)
    db.session.commit()
    return service


def _capacities(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(ProviderCapacity)).all()


def test_capacity_is_set_changed_and_removed(client, db, login_as, org_admin, cleaning):
    login_as(org_admin)
    html = client.get("/organisation?lang=en").get_data(as_text=True)
    assert "Cleaning" in html and "Set a limit" in html
    r = client.post("/organisation/capacity", data={"cap-service_type_id": cleaning.id, "cap-orders_per_week": "5"})
    assert r.status_code == 302
    r = client.post("/organisation/capacity", data={"cap-service_type_id": cleaning.id, "cap-orders_per_week": "8"})
    (row,) = _capacities(db)
    assert row.orders_per_week == 8 and row.service_type_id == cleaning.id
    assert client.post(f"/organisation/capacity/{row.id}/delete").status_code == 302
    assert _capacities(db) == []


@pytest.mark.parametrize("value", ["0", "-3", "abc", ""])
def test_capacity_must_be_at_least_one(client, db, login_as, org_admin, cleaning, value):
    login_as(org_admin)
    r = client.post("/organisation/capacity?lang=en",
                    data={"cap-service_type_id": cleaning.id, "cap-orders_per_week": value})
    assert r.status_code == 422 and "whole number from 1" in r.get_data(as_text=True)
    assert _capacities(db) == []


def test_capacity_service_rules(db, org, org_admin, cleaning, make_user):
    with pytest.raises(ValidationFailed) as exc:
        svc.set_capacity(org.id, 999999, 5, org_admin)
    assert "service_type_id" in exc.value.fields
    with pytest.raises(ValidationFailed):
        svc.set_capacity(org.id, cleaning.id, True, org_admin)
    other = make_user("provider")
    with pytest.raises(NotFoundError):
        svc.set_capacity(org.id, cleaning.id, 5, other)
    worker = make_user("provider", provider=org, provider_role="worker")
    with pytest.raises(PermissionDenied):
        svc.set_capacity(org.id, cleaning.id, 5, worker)
    assert svc.set_capacity(org.id, cleaning.id, 5, make_user("admin")).orders_per_week == 5


def test_rule_is_created_switched_and_deleted(client, db, login_as, org_admin, cleaning):
    login_as(org_admin)
    r = client.post("/organisation/rules", data={"rule-service_type_ids": [str(cleaning.id)],
                                                 "rule-postal_codes": "33100, 33200", "rule-weekdays": ["0", "4"],
                                                 "rule-capacity_per_week": "3"})
    assert r.status_code == 302
    db.session.expire_all()
    rule = db.session.scalar(sa.select(AutoAcceptRule))
    assert rule.service_type_ids == [cleaning.id] and rule.postal_codes == ["33100", "33200"]
    assert rule.weekdays == [0, 4] and rule.capacity_per_week == 3 and rule.active is True
    html = client.get("/organisation?lang=en").get_data(as_text=True)
    assert "Monday, Friday" in html and "33100, 33200" in html
    client.post(f"/organisation/rules/{rule.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert rule.active is False
    client.post(f"/organisation/rules/{rule.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert rule.active is True
    assert client.post(f"/organisation/rules/{rule.id}/delete").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AutoAcceptRule)) == 0


def test_bad_rules_are_refused(client, db, login_as, org_admin, cleaning):
    login_as(org_admin)
    r = client.post("/organisation/rules?lang=en", data={"rule-postal_codes": "331, abcde",
                                                         "rule-capacity_per_week": "0"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Choose at least one service." in html or "whole number from 1" in html
    r = client.post("/organisation/rules?lang=en", data={"rule-service_type_ids": [str(cleaning.id)],
                                                         "rule-postal_codes": "331, abcde"})
    assert r.status_code == 422 and "not five-digit postal codes: 331, abcde" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AutoAcceptRule)) == 0


def test_rule_service_validation(db, org, org_admin, cleaning):
    cases = [
        {"service_type_ids": [], "postal_codes": [], "weekdays": [], "capacity_per_week": None},
        {"service_type_ids": [999999], "postal_codes": [], "weekdays": [], "capacity_per_week": None},
        {"service_type_ids": [cleaning.id], "postal_codes": ["3310"], "weekdays": [], "capacity_per_week": None},
        {"service_type_ids": [cleaning.id], "postal_codes": [], "weekdays": [7], "capacity_per_week": None},
        {"service_type_ids": [cleaning.id], "postal_codes": [], "weekdays": [-1], "capacity_per_week": None},
        {"service_type_ids": [cleaning.id], "postal_codes": [], "weekdays": [], "capacity_per_week": 0},
        {"service_type_ids": "1", "postal_codes": [], "weekdays": [], "capacity_per_week": None},
    ]
    for case in cases:
        with pytest.raises(ValidationFailed):
            svc.create_auto_accept_rule(org.id, actor=org_admin, **case)
    rule = svc.create_auto_accept_rule(org.id, service_type_ids=[cleaning.id], postal_codes=[], weekdays=[6, 0, 6],
                                       capacity_per_week=None, actor=org_admin)
    assert rule.weekdays == [0, 6] and rule.postal_codes == []


def test_rules_of_other_organisations_are_out_of_reach(client, db, login_as, org_admin, cleaning):
    foreign = f.AutoAcceptRuleFactory(service_type_ids=[cleaning.id])
    cap = f.ProviderCapacityFactory()
    db.session.commit()
    login_as(org_admin)
    assert client.post(f"/organisation/rules/{foreign.id}/delete").status_code == 404
    assert client.post(f"/organisation/rules/{foreign.id}/active", data={"active": "0"}).status_code == 404
    assert client.post(f"/organisation/capacity/{cap.id}/delete").status_code == 404
    db.session.expire_all()
    assert foreign.active is True and len(_capacities(db)) == 1
