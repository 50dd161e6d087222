"""The report pages as a manager uses them: the dashboard with filters, asking for a
report, its progress page (a plain <progress>, a polite live region, a Refresh link
without JavaScript, no inline script) and the downloads with their header."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reports.models import ReportRun
from tests.integration.reports.conftest import csv_sections, html_tables

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("role", ["staff", "provider", "client", "admin"])
def test_the_reports_page_is_for_managers(client, make_user, login_as, role):
    login_as(make_user(role))
    assert client.get("/reports/").status_code == 403


def test_anonymous_users_are_sent_to_log_in(client):
    r = client.get("/reports/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_menu_links_to_reports_and_the_dashboard_shows_key_figures(client, make_user, login_as):
    login_as(make_user("manager", language="en"))
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/reports/"' in html
    assert "Service orders by status now" in html
    assert "Median hours from order to acceptance" in html


def test_dashboard_defaults_to_the_last_twelve_months(client, manager, login_as):
    from reports.dashboard import default_period

    login_as(manager)
    r = client.get("/reports/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    period = default_period()
    assert f'value="{period.start.isoformat()}"' in html and f'value="{period.end.isoformat()}"' in html
    assert period.start.day == 1 and (period.end.year * 12 + period.end.month) - (
        period.start.year * 12 + period.start.month) == 11
    # Every chart is an image with a text alternative, and its figures are a table.
    assert html.count('role="img"') + html.count('class="chart-empty"') >= 11
    assert len(html_tables(html)) >= 12
    assert "<script>" not in html and " style=" not in html and "onclick" not in html


@pytest.mark.parametrize("query, field", [
    ("date_from=2026-05-01&date_to=2026-04-01", "date_to"),
    ("date_from=yesterday", "date_from"),
    ("postal_code=33a", "postal_code"),
    ("provider_id=999999", "provider_id"),
    ("date_from=2010-01-01&date_to=2026-01-01", "date_to"),
])
def test_bad_filters_are_shown_as_errors_not_figures(client, manager, login_as, query, field):
    login_as(manager)
    r = client.get("/reports/?" + query)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert f'id="{field}-error"' in html
    assert 'id="key-figures"' not in html


def test_filters_are_kept_in_the_report_request(client, db, dataset, manager, login_as):
    login_as(manager)
    html = client.get(f"/reports/?date_from=2026-03-01&date_to=2026-04-30&municipality=Tampere"
                      f"&provider_id={dataset.p1.id}").get_data(as_text=True)
    assert "Municipality: Tampere; Provider: Alfa Hoiva Oy" in html
    form = html[html.index('action="/reports/"'):]
    assert 'name="municipality" type="hidden" value="Tampere"' in form
    assert f'name="provider_id" type="hidden" value="{dataset.p1.id}"' in form
    r = client.post("/reports/", data={"kind": "orders", "format": "csv", "date_from": "2026-03-01",
                                       "date_to": "2026-04-30", "municipality": "Tampere",
                                       "provider_id": str(dataset.p1.id)})
    assert r.status_code == 302
    run = db.session.scalar(sa.select(ReportRun))
    assert run.filters == {"municipality": "Tampere", "provider_id": dataset.p1.id}
    assert (run.kind, run.format, run.requested_by_id, run.status) == ("orders", "csv", manager.id, "queued")


def test_a_tampered_request_is_refused_with_a_message(client, db, manager, login_as):
    login_as(manager)
    r = client.post("/reports/", data={"kind": "orders", "format": "csv", "date_from": "2026-04-30",
                                       "date_to": "2026-03-01"})
    assert r.status_code == 422
    assert "could not be requested" in r.get_data(as_text=True)
    r = client.post("/reports/", data={"kind": "secrets", "format": "csv", "date_from": "2026-03-01",
                                       "date_to": "2026-03-31"})
    assert r.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRun)) == 0


def test_progress_page_and_downloads(client, db, dataset, manager, login_as, run_jobs):
    login_as(manager)
    r = client.post("/reports/", data={"kind": "orders", "format": "xlsx", "date_from": "2026-03-01",
                                       "date_to": "2026-04-30"})
    url = r.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'<progress id="report-progress" max="100" value="0">', page)
    assert 'role="status" aria-live="polite"' in page and "Waiting for a worker." in page
    assert f'<a href="{url}">Refresh</a>' in page
    assert 'src="/static/js/reports.js"' in page and "<script>" not in page
    assert 'id="downloads" aria-labelledby="downloads-heading" hidden' in page
    status = client.get(url + "/status").get_json()
    assert status == {"id": int(url.rsplit("/", 1)[1]), "status": "queued", "progress": 0,
                      "text": "Waiting for a worker."}
    assert client.get(url + "/download/csv").status_code == 409
    run_jobs()
    status = client.get(url + "/status").get_json()
    assert status["status"] == "done" and status["progress"] == 100 and status["text"] == "Ready to download."
    assert status["downloads"]["csv"] == url + "/download/csv"
    page = client.get(url).get_data(as_text=True)
    assert "Refresh" not in page and 'value="100"' in page
    assert "Orders by month" in page  # the figures on the page too
    xlsx = client.get(url + "/download/xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    csv = client.get(url + "/download/csv")
    header, sections = csv_sections(csv.data)
    assert header["Period"] == "1 Mar 2026 – 30 Apr 2026" and header["Filters"] == "none"
    assert "Orders by month" in sections
    assert client.get(url + "/download/pdf").status_code == 404


def test_an_admin_may_open_a_report_page_but_not_the_dashboard(client, db, make_user, login_as):
    from tests import factories as f

    run = f.ReportRunFactory(status="done", progress=100, result=None)
    db.session.commit()
    login_as(make_user("admin"))
    assert client.get(f"/reports/{run.id}").status_code == 200
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/999999").status_code == 404


def test_the_dashboard_works_without_redis_and_caches_with_it(app, client, dataset, manager, login_as,
                                                                monkeypatch):
    from reports import dashboard

    login_as(manager)
    calls = []
    real = dashboard.build
    monkeypatch.setattr(dashboard, "build", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    url = "/reports/?date_from=2026-03-01&date_to=2026-04-30"
    assert client.get(url).status_code == 200
    assert len(calls) == 7
    assert client.get(url).status_code == 200
    assert len(calls) == 7  # the second view came from the cache
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    page = client.get(url)
    assert page.status_code == 200 and "Orders by month" in page.get_data(as_text=True)
    assert len(calls) == 14


@pytest.mark.parametrize("lang, march, april", [("fi", "3/2026", "4/2026"), ("sv", "3/2026", "4/2026"),
                                                ("en", "Mar 2026", "Apr 2026")])
def test_chart_axes_show_the_readers_months(client, dataset, manager, login_as, lang, march, april):
    login_as(manager)
    html = client.get(f"/reports/?date_from=2026-03-01&date_to=2026-04-30&lang={lang}").get_data(as_text=True)
    charts = re.findall(r'<svg class="chart".*?</svg>', html, re.S)
    assert charts
    ticks = [t for svg in charts for t in re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', svg)]
    assert march in ticks and april in ticks, ticks
    assert not [t for t in ticks if re.fullmatch(r"\d{4}-\d{2}|\d{2}/\d{2}", t)], ticks  # no ISO or short months
