"""One clock, seen at night: the app's clock is stopped (the ``FROZEN_NOW`` setting,
read by core.time.now()) at 23:30 UTC on 30 November 2026, which is 01:30 on
1 December in Helsinki. Night-time home care works at this hour; everything a
person sees must already be 1 December: the visit form's default date, the
"visits reported today" counter, an offer's answer-by time, the report months and
the dates in a downloaded CSV. With the UTC day (the old ``date.today()`` on a
server) each of them would say 30 November or October.

Nothing in the code under test is replaced: the clock is a setting of the app.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from orders.models import ServiceOrder, VisitReport
from tests import factories as f

pytestmark = pytest.mark.smoke

NIGHT = "2026-11-30T23:30:00Z"  # 01:30 on 1 December in Helsinki (winter time, UTC+2)
HELSINKI_DAY = date(2026, 12, 1)
UTC_DAY = date(2026, 11, 30)


@pytest.fixture
def night(app):
    app.config["FROZEN_NOW"] = NIGHT
    return app


def test_the_clock_is_the_setting(night):
    from core.db import utcnow
    from core.time import local_now, local_today, now

    assert now() == utcnow() == datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc)
    assert local_today() == HELSINKI_DAY and (local_now().hour, local_now().minute) == (1, 30)
    night.config["TIME_ZONE"] = "UTC"  # a county elsewhere would see its own day
    assert local_today() == UTC_DAY
    night.config["TIME_ZONE"] = "Europe/Helsinki"


def test_config_refuses_a_bad_zone_and_a_frozen_clock_in_production(tmp_path):
    from core.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="TIME_ZONE"):
        load_config(str(tmp_path), {"TIME_ZONE": "Europe/Tampere"})
    with pytest.raises(ConfigError, match="FROZEN_NOW"):
        load_config(str(tmp_path), {"FROZEN_NOW": "yesterday"})
    with pytest.raises(ConfigError, match="FROZEN_NOW"):
        load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x" * 40,
                                    "DATABASE_URL": "postgresql://h/db", "REDIS_URL": "redis://h",
                                    "FROZEN_NOW": NIGHT})
    assert load_config(str(tmp_path), {})["TIME_ZONE"] == "Europe/Helsinki"


def _visits_today(html: str) -> int:
    found = re.search(r'<span class="stat-value">(\d+)</span> <span class="stat-label">visits reported today',
                      html)
    assert found, "the provider's dashboard shows its visits of today"
    return int(found[1])


def test_a_provider_at_night_sees_the_helsinki_day(night, client, db, make_user, login_as):
    from orders.services import place_order

    service_type = f.ServiceTypeFactory()
    provider = f.ProviderFactory(name="Yöhoiva Oy", languages=["fi"])
    f.OfferingFactory(provider=provider, service_type=service_type, postal_codes=["33100"])
    worker = make_user("provider", provider=provider, language="fi")
    staff = make_user("staff")
    client_record = f.ClientFactory(postal_code="33100", responsible_worker_id=staff.id)
    db.session.commit()
    order = place_order(staff, client_id=client_record.id, service_type_id=service_type.id,
                        start_date=HELSINKI_DAY, provider_ids=[provider.id])
    db.session.commit()

    login_as(worker)
    # The offer's answer-by time: 24 hours from now, shown in Helsinki time.
    inbox = client.get("/orders/inbox").get_data(as_text=True)
    assert "2.12.2026 1.30" in inbox and "1.12.2026 23.30" not in inbox
    assert client.post(f"/orders/{order.id}/accept").status_code == 302

    # The visit form offers today's date in Helsinki, not the UTC day.
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    visit_date = re.search(r'<input[^>]*name="date"[^>]*>', page)[0]
    assert 'value="2026-12-01"' in visit_date, visit_date
    # The timeline says when things happened in Helsinki time.
    assert "1.12.2026 1.30" in page

    # Two visits of the evening before (30 November) are not today's.
    for _ in range(2):
        f.VisitReportFactory(order_id=order.id, provider_id=provider.id, date=UTC_DAY)
    db.session.commit()
    assert _visits_today(client.get("/dashboard?lang=en").get_data(as_text=True)) == 0
    r = client.post(f"/orders/{order.id}/visits", data={"date": "2026-12-01", "minutes": "30", "concern": "no",
                                                       "missed": "no"})
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    assert _visits_today(client.get("/dashboard?lang=en").get_data(as_text=True)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitReport)
                             .where(VisitReport.date == HELSINKI_DAY)) == 1
    # A visit dated tomorrow in Helsinki is refused, today's is not (checked above).
    r = client.post(f"/orders/{order.id}/visits", data={"date": "2026-12-02", "minutes": "30", "concern": "no",
                                                       "missed": "no"}, follow_redirects=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitReport)
                             .where(VisitReport.date == date(2026, 12, 2))) == 0
    # The order's number carries the Helsinki year (the same here; on New Year's night it matters).
    assert db.session.get(ServiceOrder, order.id).number.startswith("SO-2026-")


def test_a_manager_at_night_sees_last_month_and_downloads_helsinki_dates(night, client, db, make_user,
                                                                          login_as, run_jobs):
    manager = make_user("manager", language="fi")
    # Orders placed now (01:30 on 1 December in Helsinki) belong to December; five
    # clients, so that the report does not hide the count as a small group.
    for _ in range(5):
        f.ServiceOrderFactory(created_at=datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc))
    db.session.commit()
    login_as(manager)

    # The front page's "last month" is November (the UTC day would give October).
    front = client.get("/dashboard").get_data(as_text=True)
    assert "1.11.2026 – 30.11.2026" in front, re.findall(r"\d+\.\d+\.\d{4} – \d+\.\d+\.\d{4}", front)
    # The reports page's default period ends today in Helsinki.
    reports = client.get("/reports/").get_data(as_text=True)
    assert 'value="2026-12-01"' in reports and 'value="2026-01-01"' in reports
    assert "1.1.2026 – 1.12.2026" in reports

    r = client.post("/reports/", data={"kind": "orders", "format": "csv", "date_from": "2026-11-01",
                                       "date_to": "2026-12-01"})
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    run_jobs()
    download = client.get(r.headers["Location"] + "/download/csv")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig")), delimiter=";"))
    header = {row[0]: row[1] for row in rows[:8] if len(row) > 1}
    assert header["Ajanjakso"] == "1.11.2026 – 1.12.2026"
    assert header["Luotu"] == "1.12.2026 1.30 (Europe/Helsinki)"
    # The orders of this night are counted in December's row, November has none.
    months: dict = {}
    for row in rows:  # the first section is the orders by month
        if row and re.fullmatch(r"\d{4}-\d{2}", row[0]):
            months.setdefault(row[0], row[1])
    assert months.get("2026-12") == "5" and months.get("2026-11") in ("0", None), months
