"""Same numbers everywhere: every report kind, built by a real RQ worker, gives the
figures computed by hand from the ``dataset`` fixture; its JSON (API), CSV and XLSX
files and the manager dashboard show exactly those figures; and groups of fewer
than five clients are suppressed (with their complementary rows), on SQLite and
PostgreSQL alike.

Hand computation (period 2026-03-01..2026-04-30, Helsinki time):
- orders placed: March m1-m7 (7 orders, clients c1-c6, c9), April a1-a6 (6 orders,
  clients c1-c3, c7, c8, c10); 13 orders by 10 clients.
- hours to acceptance: March 1, 2, 4, 6, 8, 10 (median 5.0, p90 8 + 0.5*2 = 9.0);
  April 3, 5, 7, 9 (median 6.0, p90 7 + 0.7*2 = 8.4); all ten 1..10 (median 5.5,
  p90 9 + 0.1*1 = 9.1).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale

from reports.aggregates import hidden_text
from tests.integration.reports.conftest import PERIOD, csv_sections, html_tables, xlsx_sections

pytestmark = pytest.mark.smoke

S = None  # a suppressed figure in the JSON

EXPECTED = {
    "orders": {
        "totals": dict(orders=13, clients=10, accepted=10, escalated=2, escalation_rate=15.4, cancelled=1,
                       completed=4, closed=3, received=2, not_received=1, received_rate=66.7, open_loops=1),
        "by_month": {
            "2026-03": dict(orders=7, clients=7, accepted=6, escalated=1, escalation_rate=14.3, cancelled=1,
                            completed=4, closed=3, received=2, not_received=1, received_rate=66.7, open_loops=1),
            "2026-04": dict(orders=6, clients=6, accepted=4, escalated=1, escalation_rate=16.7, cancelled=0,
                            completed=0, closed=0, received=0, not_received=0, received_rate=None, open_loops=0),
        },
        "by_category": {
            "Cleaning": dict(orders=10, clients=7, accepted=8, escalated=2, escalation_rate=20.0, completed=4,
                             received_rate=66.7),
            "Shopping help": S, "Safety services": S,
        },
        "by_provider": {
            "Alfa Hoiva Oy": dict(orders=7, clients=5, accepted=7, escalated=0, escalation_rate=0.0, completed=4,
                                  closed=3, received=2, not_received=1, open_loops=1),
            "Beta Palvelu Oy": S, "No provider yet": S,
        },
        # Alone, April/Cleaning (5 clients) would show: April's total minus the
        # suppressed April/Safety cell. Complementary suppression hides it, then
        # March/Cleaning (Cleaning's total minus April/Cleaning): all hidden.
        # April's total minus April/Cleaning and the empty April/Shopping help
        # would reveal April/Safety services (one client): the empty cell is
        # hidden with it, so every hidden cell lies on a cycle of hidden cells.
        "by_month_category": {("2026-03", "Cleaning"): dict(orders=5, clients=5), ("2026-03", "Shopping help"): S,
                              ("2026-03", "Safety services"): S, ("2026-04", "Cleaning"): dict(orders=5, clients=5),
                              ("2026-04", "Shopping help"): S, ("2026-04", "Safety services"): S},
    },
    "response_times": {
        "totals": dict(orders=13, accepted=10, median_hours=5.5, p90_hours=9.1, escalation_rate=15.4, offers=15,
                       offers_accepted=10, declined=3, expired=1, decline_rate=21.4, expiry_rate=7.1),
        "by_month": {
            "2026-03": dict(orders=7, accepted=6, median_hours=5.0, p90_hours=9.0, escalated=1),
            "2026-04": dict(orders=6, accepted=4, median_hours=6.0, p90_hours=8.4, escalated=1),
        },
        "by_category": {"Cleaning": dict(orders=10, accepted=8, median_hours=5.5, p90_hours=8.6, escalated=2),
                        "Shopping help": S, "Safety services": S},
        "by_provider": {"Alfa Hoiva Oy": dict(orders=7, clients=5, median_hours=5.0, p90_hours=8.4, escalated=0),
                        "Beta Palvelu Oy": S, "No provider yet": S},
        "offers_by_month": {
            "2026-03": dict(offers=9, clients=6, offers_accepted=6, declined=2, expired=1, decline_rate=22.2,
                            expiry_rate=11.1),
            "2026-04": dict(offers=6, clients=5, offers_accepted=4, declined=1, expired=0, decline_rate=20.0,
                            expiry_rate=0.0),
        },
        "offers_by_provider": {
            "Alfa Hoiva Oy": dict(offers=8, clients=6, offers_accepted=7, declined=0, decline_rate=0.0),
            "Beta Palvelu Oy": dict(offers=7, clients=5, offers_accepted=3, declined=3, expired=1,
                                    decline_rate=42.9, expiry_rate=14.3),
        },
    },
    "delivered_hours": {
        "totals": dict(visits=7, clients=5, hours=8.0),
        "by_month": {"2026-03": S, "2026-04": S},
        "by_category": {"Cleaning": dict(visits=7, clients=5, hours=8.0)},
        "by_provider": {"Alfa Hoiva Oy": S, "Beta Palvelu Oy": S},
    },
    "feedback": {
        # The hidden rating is left out. Beta's single rating is suppressed, and so
        # is Alfa's row: the total minus Alfa would reveal it.
        "totals": dict(feedback=6, clients=6, average_rating=4.33, needs_met_rate=83.3),
        "by_month": {"2026-03": S, "2026-04": S},
        "by_provider": {"Alfa Hoiva Oy": S, "Beta Palvelu Oy": S},
    },
    "guidance_contacts": {
        "totals": dict(contacts=7, people=7, anonymous=3, average_minutes=10.0),
        "by_month": {"2026-03": dict(contacts=7, people=7, anonymous=3)},
        "by_channel": {"Phone": dict(contacts=5, people=5, anonymous=2), "Visit": S, "Chat": S},
        "by_topic": {"siivous": dict(contacts=5, people=5), "Other topics": S},
    },
    "shop_sales": {
        "totals": dict(purchases=5, buyers=5, sales_cents=22500, vat_cents=4570, platform_fee_cents=1125,
                       refunded_cents=1000, net_sales_cents=21500),
        "by_month": {"2026-03": dict(purchases=5, sales_cents=22500, vat_cents=4570)},
        "by_provider": {"Alfa Hoiva Oy": dict(purchases=5, buyers=5, net_sales_cents=21500)},
    },
    "staffing": {
        "totals": dict(requests=4, headcount=7, filled=2, fill_rate=66.7, people_covered=3, median_fill_hours=7.0,
                       p90_fill_hours=9.4, hours_worked=24.0),
        "by_month": {
            "2026-03": dict(requests=2, headcount=3, filled=2, fill_rate=100.0, people_covered=3,
                            median_fill_hours=7.0, p90_fill_hours=9.4, hours_worked=24.0),
            "2026-04": dict(requests=2, headcount=4, filled=0, fill_rate=0.0, people_covered=0,
                            median_fill_hours=None, hours_worked=0.0),
        },
        "by_agency": {"Gamma Rekry Oy": dict(selected_offers=2, people_covered=3, hours_worked=24.0)},
    },
}


def _group(section: dict, row: dict):
    keys = [c["key"] for c in section["columns"] if c["type"] in ("month", "label")]
    values = tuple(row[k] for k in keys)
    return values[0] if len(values) == 1 else values


def check_expected(result: dict, expected: dict) -> None:
    """The report's figures are the hand-computed ones."""
    for key, value in expected["totals"].items():
        assert result["totals"][key] == value, (result["kind"], "totals", key)
    assert result["totals"]["suppressed"] is False
    sections = {s["key"]: s for s in result["sections"]}
    for name, rows in expected.items():
        if name == "totals":
            continue
        section = sections[name]
        got = {_group(section, r): r for r in section["rows"]}
        assert set(got) == set(rows), (result["kind"], name, sorted(got, key=str))
        for group, figures in rows.items():
            row = got[group]
            if figures is S:
                assert row["suppressed"] is True, (result["kind"], name, group)
                assert all(row[c["key"]] is None for c in section["columns"] if c["type"] not in ("month", "label"))
            else:
                assert row["suppressed"] is False, (result["kind"], name, group)
                for key, value in figures.items():
                    assert row[key] == value, (result["kind"], name, group, key, row[key])


def _file_value(value, kind, suppressed, hidden="–"):
    """What the files hold for a JSON figure."""
    if suppressed:
        return hidden
    if value is None:
        return None
    if kind == "money":
        return Decimal(value) / 100
    return value


def _figure_cells(section: dict, block: list):
    """``(cell, column, wanted value)`` for each figure of a section's block in a
    file (its header line and group columns skipped), after checking the block has
    a line for every row of the section and its total."""
    rows = section["rows"] + ([section["total"]] if section.get("total") else [])
    assert len(block) - 1 == len(rows)
    for line, row in zip(block[1:], rows):
        for cell, column in zip(line, section["columns"]):
            if column["type"] not in ("month", "label"):
                yield cell, column, _file_value(row.get(column["key"]), column["type"], row["suppressed"],
                                                hidden_text(row, column["key"], section["people"]))


def check_csv(result: dict, content: bytes) -> None:
    header, sections = csv_sections(content)
    assert header["Report"] == result["title"]
    assert header["Period"] == "1 Mar 2026 – 30 Apr 2026"  # the report language's dates (English here)
    assert "Generated" in header and "(Europe/Helsinki)" in header["Generated"]
    assert "<5" in header["Privacy"] and "–" in header["Privacy"]
    for section in result["sections"]:
        block = sections[section["title"]]
        assert block[0][:len(section["columns"])] == [
            c["label"] + (" (EUR)" if c["type"] == "money" else "") for c in section["columns"]]
        for text, column, want in _figure_cells(section, block):
            if want is None:
                assert text == ""
            elif isinstance(want, Decimal):
                assert "." not in text and Decimal(text.replace(",", ".")) == want
            elif want in ("<5", "–"):
                assert text == want
            else:
                assert "." not in text and float(text.replace(",", ".")) == want, (section["key"], column["key"])


def check_xlsx(result: dict, content: bytes) -> None:
    header, sections = xlsx_sections(content)
    assert header["Report"] == result["title"]
    assert header["Period"] == datetime(2026, 3, 1)  # a date cell (openpyxl reads dates as datetimes)
    assert header["Generated"]
    for section in result["sections"]:
        title = section["title"]
        block = sections.get(title) or next(v for k, v in sections.items() if title.startswith(k))
        for value, column, want in _figure_cells(section, block):
            if isinstance(want, Decimal):
                assert Decimal(str(value)) == want
            else:
                assert value == want, (section["key"], column["key"])


def check_dashboard(app, results: dict, html: str) -> None:
    """Every figure in every table of the dashboard is the API's figure, formatted."""
    from core.templating import fmt_month
    from reports.dashboard import format_value

    sections = {s["title"]: s for r in results.values() for s in r["sections"]}
    checked = 0
    with app.test_request_context(), force_locale("en"):
        for table in html_tables(html):
            section = sections.get(table["caption"])
            if section is None:
                continue
            by_label = {c["label"]: c for c in section["columns"]}
            if not all(h in by_label for h in table["headers"]):
                continue  # the category-by-month view: checked by test_dashboard_cross_table
            groups = [c for c in section["columns"] if c["type"] in ("month", "label")]
            for line, row in zip(table["rows"], section["rows"]):
                # Months as the page's language writes them ("Mar 2026"), labels as they are.
                assert line[:len(groups)] == [fmt_month(row[c["key"]]) if c["type"] == "month" else str(row[c["key"]])
                                              for c in groups]
                for text, head in zip(line[len(groups):], table["headers"][len(groups):]):
                    column = by_label[head]
                    small = hidden_text(row, column["key"], section["people"]) == "<5"
                    assert text == format_value(row.get(column["key"]), column["type"], row["suppressed"],
                                                small).replace("\u00a0", " "), (section["key"], column["key"])
                    checked += 1
    assert checked >= 100


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_report_matches_the_hand_computed_figures_in_api_and_files(
        app, client, db, dataset, manager, api_token, run_jobs, fmt):
    headers = api_token(manager)
    ids = {}
    for kind in EXPECTED:
        r = client.post("/api/v1/reports", json={"kind": kind, "from": "2026-03-01", "to": "2026-04-30",
                                                 "format": fmt}, headers=headers)
        assert r.status_code == 202, r.get_json()
        assert r.get_json()["status"] == "queued"
        ids[kind] = r.get_json()["id"]
    assert run_jobs() >= len(EXPECTED)
    for kind, run_id in ids.items():
        body = client.get(f"/api/v1/reports/{run_id}", headers=headers).get_json()
        assert body["status"] == "done" and body["progress"] == 100
        assert body["download_url"] == f"http://kotiapu.test/api/v1/reports/{run_id}/download"
        assert "result" not in body  # only the json format embeds it
        download = client.get(body["download_url"], headers=headers)
        assert download.status_code == 200
        from reports.models import ReportRun

        result = db.session.get(ReportRun, run_id).result
        check_expected(result, EXPECTED[kind])
        if fmt == "csv":
            assert download.headers["Content-Type"].startswith("text/csv")
            check_csv(result, download.data)
        else:
            assert download.headers["Content-Type"].startswith("application/vnd.openxmlformats")
            check_xlsx(result, download.data)


def test_json_reports_embed_the_same_result_and_the_dashboard_shows_it(
        app, client, db, dataset, manager, api_token, login_as, run_jobs):
    headers = api_token(manager)
    results = {}
    for kind in EXPECTED:
        r = client.post("/api/v1/reports", json={"kind": kind, "from": "2026-03-01", "to": "2026-04-30"},
                        headers=headers)
        assert r.status_code == 202
        results[kind] = r.get_json()["id"]
    run_jobs()
    for kind, run_id in list(results.items()):
        body = client.get(f"/api/v1/reports/{run_id}", headers=headers).get_json()
        assert body["format"] == "json"
        check_expected(body["result"], EXPECTED[kind])
        results[kind] = body["result"]
    login_as(manager)
    page = client.get("/reports/?date_from=2026-03-01&date_to=2026-04-30")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    check_dashboard(app, results, html)
    for name in dataset.names:
        assert name not in html


def test_dashboard_cross_table_and_key_figures(client, dataset, manager, login_as):
    login_as(manager)
    html = client.get(f"/reports/?date_from={PERIOD[0]}&date_to={PERIOD[1]}").get_data(as_text=True)
    cross = next(t for t in html_tables(html) if t["caption"] == "Orders by month and service category")
    assert cross["headers"] == ["Service category", "Mar 2026", "Apr 2026"]
    assert {tuple(r) for r in cross["rows"]} == {("Cleaning", "5", "5"), ("Shopping help", "–", "–"),
                                                 ("Safety services", "–", "–")}
    assert '<span class="stat-value">13</span> <span class="stat-label">Service orders</span>' in html
    assert '<span class="stat-value">5.5</span> <span class="stat-label">Median hours from order to acceptance' in html
    assert '<span class="stat-value">€225.00</span> <span class="stat-label">Self-paid sales' in html
    assert '<span class="stat-value">24.0</span> <span class="stat-label">Hours worked by agency staff' in html


def test_filters_narrow_every_figure(app, db, dataset, manager):
    from reports.aggregates import Filters, Period, build

    period = Period(*PERIOD)
    nokia = build("orders", period, Filters(municipality="nokia"), language="en")
    assert nokia["totals"]["suppressed"] is True and nokia["totals"]["orders"] is None
    assert nokia["filters_text"] == [["Municipality", "nokia"]]
    alfa = build("orders", period, Filters(provider_id=dataset.p1.id), language="en")
    assert alfa["totals"]["orders"] == 7 and alfa["totals"]["clients"] == 5
    area = build("response_times", period, Filters(postal_code="331"), language="en")
    assert area["totals"]["orders"] == 11  # everything but c9's and c10's orders
    cleaning = build("orders", period, Filters(category_id=dataset.cat_a.id, segment="guidance"), language="en")
    assert cleaning["totals"]["orders"] == 10
    guidance = build("guidance_contacts", period, Filters(municipality="Tampere", provider_id=dataset.p1.id),
                     language="en")
    assert guidance["totals"]["contacts"] == 6
    assert guidance["filters_not_applied"] == ["Provider"]
    sales = build("shop_sales", period, Filters(category_id=dataset.cat_b.id), language="en")
    assert sales["totals"]["suppressed"] is True  # no purchase of that category: nothing to show
    staffing = build("staffing", period, Filters(provider_id=dataset.agency.id), language="en")
    assert staffing["totals"]["requests"] == 2 and staffing["totals"]["hours_worked"] == 24.0
