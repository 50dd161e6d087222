"""The front-door report: requests by channel, topic and area, time to callback
(median and 90th percentile) and the share converted, with the reports package's
small-group suppression (complementary where the total would give a group away)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import utcnow
from frontdoor.models import HelpRequest


_seq = iter(range(1, 10**6))


def _add(db, n, channel, postal, topics, called_after_hours=None, status="open"):
    now = utcnow() - timedelta(days=2)
    for _i in range(n):
        k = next(_seq)
        db.session.add(HelpRequest(
            reference=f"AP-T{k:05d}", channel=channel, for_whom="self", topics=topics, name="Testi Henkilö",
            phone=None, email=f"testi{k}@example.fi", contact_key=f"testi{k}@example.fi", postal_code=postal,
            language="fi",
            consent_to_contact=True, urgency=0, status=status, callback_due=now + timedelta(days=1),
            created_at=now, called_back_at=(now + timedelta(hours=called_after_hours)
                                            if called_after_hours is not None else None)))
        db.session.flush()


@pytest.mark.smoke
def test_report_figures_and_small_group_suppression(client, db, login_as, make_user):
    for hours in (1, 2, 3, 4, 10):
        _add(db, 1, "web", "33100", ["cleaning", "meals"], called_after_hours=hours, status="converted")
    _add(db, 2, "web", "33100", ["cleaning"])
    _add(db, 5, "phone", "33200", ["cleaning", "memory"])
    _add(db, 2, "chat", "33300", ["loneliness"])
    manager = make_user("manager")
    login_as(manager)
    from frontdoor.report import front_door_report
    from core.time import local_today

    data = front_door_report(manager, local_today() - timedelta(days=30), local_today())
    assert data["total"] == 14
    channels = {r["key"]: r["requests"] for r in data["by_channel"]}
    # chat (2) is below 5; phone (5) is hidden too, or web = total - phone would give chat away.
    assert channels == {"web": 7, "phone": None, "chat": None}
    assert {r["key"]: r["requests"] for r in data["by_area"]} == {"33100": 7, "33200": None, "33300": None}
    topics = {r["key"]: r["requests"] for r in data["by_topic"]}
    assert topics["cleaning"] == 12 and topics["loneliness"] is None
    # A request may name several topics; the small row is still not left alone.
    assert sorted([topics["meals"], topics["memory"]], key=str) == [5, None]
    assert data["median_hours"] == 3.0 and data["p90_hours"] == 7.6
    assert data["converted"] == 5 and data["converted_share"] == 35.7
    page = client.get("/front-door/report?lang=en").get_data(as_text=True)
    assert 'id="median">3.0<' in page and 'id="p90">7.6<' in page and "35.7 %" in page
    assert "35,7 %" in client.get("/front-door/report?lang=fi").get_data(as_text=True) and "&lt;5" in page
    bad = client.get("/front-door/report?since=2026-13-01&lang=en")
    assert bad.status_code == 422 and "Write the date as YYYY-MM-DD." in bad.get_data(as_text=True)


def test_too_few_callbacks_show_no_times(db, make_user):
    from core.time import local_today
    from frontdoor.report import front_door_report

    _add(db, 3, "web", "33100", ["cleaning"], called_after_hours=2, status="converted")
    data = front_door_report(make_user("staff"), local_today() - timedelta(days=7), local_today())
    assert data["total"] is None and data["median_hours"] is None and data["converted_share"] is None
    assert all(r["requests"] is None for r in data["by_channel"])
