"""Hours actually worked: reported by the selected agency after the last shift,
validated, and summed for the staffing report."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from staffing import services
from staffing.models import StaffingOffer, StaffingShift
from tests import factories as f

pytestmark = pytest.mark.smoke


@pytest.fixture
def selected(client, db, api_token, staff, make_agency, new_request, run_jobs):
    """A filled request (two people, two 8-hour shifts) with the agency's selected offer."""
    agency = make_agency()
    req = new_request(headcount=2)
    run_jobs()
    url = f"/api/v1/staffing-requests/{req['id']}"
    offer_id = client.post(f"{url}/offers", headers=api_token(agency),
                           json={"headcount": 2, "hourly_rate_cents": 4000}).get_json()["id"]
    assert client.post(f"{url}/offers/{offer_id}/select", headers=api_token(staff)).status_code == 200
    return {"agency": agency, "request_id": req["id"], "offer_id": offer_id,
            "url": f"{url}/offers/{offer_id}/hours"}


def _shifts_over(db, request_id):
    past = utcnow() - timedelta(days=3)
    shifts = db.session.scalars(sa.select(StaffingShift).where(StaffingShift.request_id == request_id))
    for i, shift in enumerate(shifts):
        shift.start_at = past + timedelta(days=i)
        shift.end_at = past + timedelta(days=i, hours=8)
    db.session.commit()


def test_hours_are_reported_after_the_last_shift(client, db, api_token, selected):
    headers = api_token(selected["agency"])
    early = client.post(selected["url"], headers=headers, json={"minutes_worked": 600})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "shifts_not_over"
    _shifts_over(db, selected["request_id"])
    # 2 people x 2 shifts x 8 h = 32 h at most.
    too_many = client.post(selected["url"], headers=headers, json={"minutes_worked": 32 * 60 + 1})
    assert too_many.status_code == 422 and "minutes_worked" in too_many.get_json()["error"]["fields"]
    assert client.post(selected["url"], headers=headers, json={"minutes_worked": -5}).status_code == 422
    assert client.post(selected["url"], headers=headers, json={"minutes_worked": "30h"}).status_code == 422
    r = client.post(selected["url"], headers=headers, json={"minutes_worked": 30 * 60})
    assert r.status_code == 200 and r.get_json()["minutes_worked"] == 1800 and r.get_json()["hours_reported_at"]
    # A correction replaces the figure.
    assert client.post(selected["url"], headers=headers, json={"minutes_worked": 31 * 60}).get_json()[
        "minutes_worked"] == 1860


def test_only_the_selected_agency_reports_hours(client, db, api_token, make_agency, selected, staff):
    _shifts_over(db, selected["request_id"])
    other = make_agency()
    f.StaffingRecipientFactory(request_id=selected["request_id"], provider_id=other.provider_id)
    db.session.commit()
    assert client.post(selected["url"], headers=api_token(other), json={"minutes_worked": 60}).status_code == 404
    assert client.post(selected["url"], headers=api_token(staff), json={"minutes_worked": 60}).status_code == 403


def test_hours_feed_the_staffing_report(client, db, api_token, selected):
    _shifts_over(db, selected["request_id"])
    client.post(selected["url"], headers=api_token(selected["agency"]), json={"minutes_worked": 30 * 60})
    today = utcnow().date()
    rows = services.hours_summary(today - timedelta(days=10), today)
    assert rows == [{"qualification": "practical_nurse", "provider_id": selected["agency"].provider_id,
                     "provider": selected["agency"].provider.name, "offers": 1, "people": 2, "reported": 1,
                     "minutes_worked": 1800, "cost_cents": 30 * 4000}]
    assert services.hours_summary(today - timedelta(days=100), today - timedelta(days=50)) == []
    assert db.session.get(StaffingOffer, selected["offer_id"]).hours_reported_at is not None
