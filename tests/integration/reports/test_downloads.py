"""Downloads Finnish users can open, and privacy that reads right: the CSV of a
report is in the Finnish spreadsheet dialect by default (read back with Python's
csv module the way Excel with Finnish settings splits it: UTF-8 after a byte-order
mark, semicolons, decimal commas), the plain dialect on request (web and API);
XLSX cells are typed; every download is ``Cache-Control: no-store``; a hidden
amount of money or average is "–", never "<5"; the filter labels are in the page's
language; a finished report's page no longer says it is being made."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
import sqlalchemy as sa

from reports.models import ReportRun
from tests.integration.reports.conftest import csv_sections

pytestmark = pytest.mark.smoke


def _request(client, headers, kind, fmt):
    r = client.post("/api/v1/reports", json={"kind": kind, "from": "2026-03-01", "to": "2026-04-30",
                                             "format": fmt}, headers=headers)
    assert r.status_code == 202, r.get_json()
    return r.get_json()["id"]


def test_csv_is_in_the_finnish_spreadsheet_dialect_by_default(app, client, db, dataset, manager, api_token,
                                                               run_jobs):
    headers = api_token(manager)
    run_id = _request(client, headers, "orders", "csv")
    run_jobs()
    r = client.get(f"/api/v1/reports/{run_id}/download", headers=headers)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"].endswith('.csv"')
    raw = r.data
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    # Excel with Finnish settings: semicolon-separated, so every line splits into columns.
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    month_head = next(i for i, row in enumerate(rows) if row and row[0] == "Orders by month")
    head, march = rows[month_head + 1], rows[month_head + 2]
    assert head[:3] == ["Month", "Orders", "Clients"]
    figures = dict(zip(head, march))
    assert figures["Month"] == "2026-03" and figures["Orders"] == "7"
    assert figures["Escalation rate %"] == "14,3" and figures["Received % of closed"] == "66,7"
    # The plain reader would not split it: no comma between the fields.
    assert list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[month_head + 2] != march


def test_plain_csv_on_request_by_api_and_by_the_web_page(app, client, db, dataset, manager, api_token, login_as,
                                                         run_jobs):
    headers = api_token(manager)
    run_id = _request(client, headers, "shop_sales", "csv_plain")
    run_jobs()
    body = client.get(f"/api/v1/reports/{run_id}", headers=headers).get_json()
    assert body["format"] == "csv_plain"
    r = client.get(body["download_url"], headers=headers)
    assert r.status_code == 200 and r.headers["Content-Disposition"].endswith('.csv"')
    header, sections = csv_sections(r.data, dialect="plain")
    block = sections["Self-paid sales by month"]
    figures = dict(zip(block[0], block[1]))
    assert figures["Sales incl. VAT (EUR)"] == "225.00" and figures["VAT (EUR)"] == "45.70"
    # The same report in the other dialect, from the API and from the page.
    other = client.get(f"/api/v1/reports/{run_id}/download?format=csv", headers=headers)
    _header, fi = csv_sections(other.data, dialect="fi")
    assert dict(zip(fi["Self-paid sales by month"][0], fi["Self-paid sales by month"][1]))[
        "Sales incl. VAT (EUR)"] == "225,00"
    bad = client.get(f"/api/v1/reports/{run_id}/download?format=csv_excel", headers=headers)
    assert bad.status_code == 422 and "format" in bad.get_json()["error"]["fields"]
    login_as(manager)
    page = client.get(f"/reports/{run_id}/download/csv_plain")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert not page.data.startswith(b"\xef\xbb\xbf")
    # The web form offers both dialects.
    html = client.get("/reports/?date_from=2026-03-01&date_to=2026-04-30").get_data(as_text=True)
    assert 'value="csv"' in html and 'value="csv_plain"' in html
    posted = client.post("/reports/", data={"kind": "orders", "format": "csv_plain", "date_from": "2026-03-01",
                                            "date_to": "2026-04-30"})
    assert posted.status_code == 302
    assert db.session.scalars(sa.select(ReportRun).order_by(ReportRun.id.desc())).first().format == "csv_plain"


def test_xlsx_cells_are_typed(app, client, db, dataset, manager, api_token, run_jobs):
    from openpyxl import load_workbook

    headers = api_token(manager)
    run_id = _request(client, headers, "shop_sales", "xlsx")
    run_jobs()
    r = client.get(f"/api/v1/reports/{run_id}/download", headers=headers)
    assert r.headers["Cache-Control"] == "no-store"
    wb = load_workbook(io.BytesIO(r.data))
    ws = wb["Self-paid sales by month"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    period = [row for row in ws.iter_rows() if row[0].value == "Period"][0]
    assert period[1].is_date and period[1].value == datetime(2026, 3, 1)
    assert period[3].is_date and period[3].value == datetime(2026, 4, 30)
    generated = [row for row in ws.iter_rows() if row[0].value == "Generated"][0]
    assert generated[1].is_date and generated[2].value == "Europe/Helsinki"
    head = next(row for row in ws.iter_rows() if row[0].value == "Month")
    line = next(row for row in ws.iter_rows() if row[0].is_date and row[0].value == datetime(2026, 3, 1))
    by = {h.value: c for h, c in zip(head, line)}
    assert by["Purchases"].data_type == "n" and by["Purchases"].value == 5
    sales = by["Sales incl. VAT (EUR)"]
    assert sales.data_type == "n" and sales.value == 225 and "€" in sales.number_format
    assert line[0].number_format == "mmm yyyy"  # a date cell shown as the report language (English) writes months
    assert "Total" in cells


def test_hidden_money_and_averages_are_a_dash_never_less_than_five(app, client, db, dataset, manager, api_token,
                                                                   login_as, run_jobs):
    headers = api_token(manager)
    run_id = _request(client, headers, "feedback", "csv")
    run_jobs()
    _header, sections = csv_sections(client.get(f"/api/v1/reports/{run_id}/download", headers=headers).data)
    block = sections["Feedback by provider"]
    rows = {line[0]: dict(zip(block[0], line)) for line in block[1:]}
    # Beta: one client (primary); Alfa: five, hidden only so that Beta cannot be worked out.
    beta, alfa = rows["Beta Palvelu Oy"], rows["Alfa Hoiva Oy"]
    assert beta["Clients"] == "<5" and beta["Average rating (1-5)"] == "–" and beta["Feedback"] == "–"
    assert all(alfa[k] == "–" for k in ("Feedback", "Clients", "Average rating (1-5)", "Needs met %"))
    assert rows["Total"]["Average rating (1-5)"] == "4,33"
    login_as(manager)
    html = client.get("/reports/?date_from=2026-03-01&date_to=2026-04-30").get_data(as_text=True)
    assert "the group's other figures (amounts of money, averages, rates) as “–”" in html.replace("&#39;", "'")
    sales_run = _request(client, headers, "shop_sales", "csv")
    run_jobs()
    for line in client.get(f"/api/v1/reports/{sales_run}/download", headers=headers).data.decode(
            "utf-8-sig").splitlines():
        cells = line.split(";")
        if cells[0] == "Privacy":
            continue
        assert "<5" not in cells[2:], line  # money columns


def test_filter_labels_and_dates_speak_the_page_language(app, client, db, dataset, manager, login_as):
    manager.language = "fi"
    db.session.commit()
    login_as(manager)
    for lang, first, last, municipality in (
            ("fi", "Jakson ensimmäinen päivä", "Jakson viimeinen päivä", "Kunta"),
            ("sv", "Periodens första dag", "Periodens sista dag", "Kommun"),
            ("en", "First day of the period", "Last day of the period", "Municipality")):
        html = client.get(f"/reports/?date_from=2026-03-01&date_to=2026-04-30&municipality=Nokia&lang={lang}"
                          ).get_data(as_text=True)
        assert f'lang="{lang}"' in html
        assert first in html and last in html and f"{municipality}: Nokia" in html
        assert "Vastaanottaja" not in html and "Mottagare" not in html


def test_a_finished_report_no_longer_says_it_is_being_made(app, client, db, dataset, manager, login_as, run_jobs):
    login_as(manager)
    r = client.post("/reports/", data={"kind": "orders", "format": "xlsx", "date_from": "2026-03-01",
                                       "date_to": "2026-04-30"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Report requested. Its status is shown below." in html and "Waiting for a worker." in html
    run_jobs()
    run_id = db.session.scalars(sa.select(ReportRun.id).order_by(ReportRun.id.desc())).first()
    html = client.get(f"/reports/{run_id}").get_data(as_text=True)
    assert "Ready to download." in html
    assert "being generated" not in html.lower() and "Refresh" not in html
    status = client.get(f"/reports/{run_id}/status").get_json()
    assert status["text"] == "Ready to download." and set(status["downloads"]) == {"json", "csv", "csv_plain",
                                                                                   "xlsx"}
