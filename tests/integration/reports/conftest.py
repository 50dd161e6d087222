"""Fixtures for the report tests: a small data set whose figures are computed by
hand below (``EXPECTED``), a manager who reads English, and helpers that read the
tables of a page, a CSV file and an XLSX file back into rows of text.

The period is March-April 2026 in the county's time (Europe/Helsinki): summer time
starts on 29 March, so an order at 2026-03-31 21:30 UTC is placed on 1 April, and
one at 2026-02-28 22:30 UTC on 1 March.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from tests import factories as f

PERIOD = (date(2026, 3, 1), date(2026, 4, 30))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


class Dataset:
    pass


@pytest.fixture
def manager(make_user):
    return make_user("manager", language="en", name="Päivi Johtaja", email="johtaja@example.fi")


@pytest.fixture
def dataset(db):
    """Clients c1..c10 (c9, c10 in Nokia, intensive), categories Siivous (A),
    Kauppa-apu (B) and Turvapalvelut (C), providers Alfa (P1) and Beta (P2), an
    agency; orders, offers, visits, feedback, guidance contacts, purchases and
    staffing requests as in the module docstring of test_same_numbers."""
    d = Dataset()
    d.cat_a = f.ServiceCategoryFactory(name_fi="Siivous", name_en="Cleaning", position=1)
    d.cat_b = f.ServiceCategoryFactory(name_fi="Kauppa-apu", name_en="Shopping help", position=2)
    d.cat_c = f.ServiceCategoryFactory(name_fi="Turvapalvelut", name_en="Safety services", position=3)
    ta, tb, tc = (f.ServiceTypeFactory(category=c) for c in (d.cat_a, d.cat_b, d.cat_c))
    d.p1 = f.ProviderFactory(name="Alfa Hoiva Oy")
    d.p2 = f.ProviderFactory(name="Beta Palvelu Oy")
    d.agency = f.ProviderFactory(name="Gamma Rekry Oy", kind="agency")
    d.clients = {}
    for i in range(1, 11):
        nokia = i >= 9
        d.clients[i] = f.ClientFactory(
            first_name=f"Etunimi{i}", last_name=f"Sukunimi{i}", personal_identity_code=f.valid_identity_code(i),
            postal_code="37100" if nokia else "33100", municipality="Nokia" if nokia else "Tampere",
            segment="intensive" if nokia else "guidance")
    c = d.clients

    def order(client, stype, provider, status, created, accept_hours=None, **kw):
        fields = dict(client=client, service_type=stype, provider=provider, status=status, created_at=created,
                      offered_at=created)
        if accept_hours is not None:
            fields["accepted_at"] = created + timedelta(hours=accept_hours)
        fields.update(kw)
        return f.ServiceOrderFactory(**fields)

    mar = utc(2026, 3, 2, 7, 0)
    done = dict(completed_at=utc(2026, 3, 10, 12), closed_at=utc(2026, 3, 12, 12))
    d.m1 = order(c[1], ta, d.p1, "closed", mar, 2, outcome="received", **done)
    d.m2 = order(c[2], ta, d.p1, "closed", mar, 4, outcome="received", **done)
    d.m3 = order(c[3], ta, d.p1, "closed", mar, 6, outcome="not_received", **done)
    d.m4 = order(c[4], ta, d.p1, "completed", mar, 8, completed_at=utc(2026, 3, 11, 12))
    d.m5 = order(c[5], ta, d.p2, "in_progress", mar, 10, escalated_at=mar + timedelta(hours=1))
    d.m6 = order(c[6], tb, None, "cancelled", mar, cancelled_at=mar + timedelta(days=1))
    d.m7 = order(c[9], tc, d.p2, "accepted", utc(2026, 2, 28, 22, 30), 1)  # 1 March 00:30 local
    d.a1 = order(c[1], ta, d.p1, "accepted", utc(2026, 3, 31, 21, 30), 3)  # 1 April 00:30 local
    apr = utc(2026, 4, 14, 9, 0)
    d.a2 = order(c[2], ta, d.p1, "accepted", apr, 5)
    d.a3 = order(c[3], ta, d.p2, "accepted", apr, 7)
    d.a4 = order(c[7], ta, None, "offered", apr)
    d.a5 = order(c[8], ta, None, "escalated", apr, escalated_at=apr + timedelta(hours=24))
    d.a6 = order(c[10], tc, d.p1, "accepted", apr, 9)
    order(c[1], ta, d.p1, "offered", utc(2026, 5, 1, 10))           # after the period
    order(c[1], ta, d.p1, "offered", utc(2026, 2, 28, 21, 30))      # 28 Feb 23:30 local: before it

    for o in (d.m1, d.m2, d.m3, d.m4, d.m5, d.m7, d.a1, d.a2, d.a3, d.a6):
        f.OfferFactory(order=o, provider=o.provider, status="accepted", sent_at=o.created_at,
                       answered_at=o.accepted_at)
    for o in (d.m1, d.m2, d.a1):
        f.OfferFactory(order=o, provider=d.p2, status="declined", sent_at=o.created_at,
                       answered_at=o.created_at + timedelta(minutes=30))
    f.OfferFactory(order=d.m3, provider=d.p2, status="expired", sent_at=d.m3.created_at)
    f.OfferFactory(order=d.a4, provider=d.p1, status="pending", sent_at=d.a4.created_at)
    f.OfferFactory(order=d.a4, provider=d.p2, status="pending", sent_at=None)  # waiting its turn: not sent

    for o, day, minutes in ((d.m1, date(2026, 3, 5), 60), (d.m1, date(2026, 3, 6), 60), (d.m2, date(2026, 3, 7), 90),
                            (d.m3, date(2026, 3, 8), 60), (d.m5, date(2026, 3, 20), 120),
                            (d.m4, date(2026, 4, 2), 30), (d.a1, date(2026, 4, 10), 60),
                            (d.m1, date(2026, 5, 2), 60)):  # the last one after the period
        f.VisitReportFactory(order_id=o.id, provider_id=o.provider_id, date=day, minutes=minutes)

    fb_at = utc(2026, 3, 20, 10)
    for i, rating, met in ((1, 5, True), (2, 4, True), (3, 3, False), (4, 5, True), (5, 4, True)):
        f.FeedbackFactory(provider_id=d.p1.id, client_id=c[i].id, service_type_id=ta.id, rating=rating,
                          needs_met=met, created_at=fb_at)
    f.FeedbackFactory(provider_id=d.p1.id, client_id=c[6].id, service_type_id=ta.id, rating=2, needs_met=False,
                      created_at=fb_at, hidden_at=fb_at + timedelta(days=1))  # hidden: not counted
    f.FeedbackFactory(provider_id=d.p2.id, client_id=c[9].id, service_type_id=tc.id, rating=5, needs_met=True,
                      created_at=utc(2026, 4, 3, 10))

    at = utc(2026, 3, 16, 9)
    staff = f.UserFactory(role="staff")
    for client, channel, topic, municipality in (
            (c[1], "phone", "siivous", "Tampere"), (c[2], "phone", "siivous", "Tampere"),
            (c[3], "phone", "siivous", "Tampere"), (None, "phone", "siivous", "Tampere"),
            (None, "phone", "siivous", "Tampere"), (c[4], "visit", "muisti", "Tampere"),
            (None, "chat", "raha-asiat", "Nokia")):
        f.GuidanceContactFactory(client_id=client.id if client else None, staff_id=staff.id, channel=channel,
                                 topic=topic, at=at, municipality=municipality, minutes=10)

    paid = utc(2026, 3, 25, 12)
    for i in range(5):
        f.ShopOrderFactory(provider=d.p1, status="paid" if i < 3 else "fulfilled", paid_at=paid,
                           total_cents=4500, vat_cents=914, platform_fee_cents=225,
                           refunded_cents=1000 if i == 0 else 0, buyer_email=f"ostaja{i}@example.fi",
                           buyer_name=f"Ostaja Nimi{i}")
    f.ShopOrderFactory(provider=d.p1, status="pending_payment", total_cents=9900, vat_cents=2000)
    f.ShopOrderFactory(provider=d.p1, status="cancelled", total_cents=9900, vat_cents=2000,
                       cancelled_at=paid)

    r1 = f.StaffingRequestFactory(created_at=utc(2026, 3, 3, 10), status="filled", headcount=2,
                                  filled_at=utc(2026, 3, 3, 14))
    r2 = f.StaffingRequestFactory(created_at=utc(2026, 3, 10, 10), status="filled", headcount=1,
                                  filled_at=utc(2026, 3, 10, 20))
    f.StaffingRequestFactory(created_at=utc(2026, 4, 5, 10), status="closed", headcount=3,
                             qualification="registered_nurse")
    f.StaffingRequestFactory(created_at=utc(2026, 4, 6, 10), status="cancelled", headcount=1)
    f.StaffingOfferFactory(request_id=r1.id, provider_id=d.agency.id, headcount=2, status="selected",
                           minutes_worked=960)
    f.StaffingOfferFactory(request_id=r2.id, provider_id=d.agency.id, headcount=1, status="selected",
                           minutes_worked=480)
    db.session.commit()
    d.names = [v for cl in c.values() for v in (cl.first_name, cl.last_name, cl.personal_identity_code)]
    d.names += [f"Ostaja Nimi{i}" for i in range(5)] + [f"ostaja{i}@example.fi" for i in range(5)]
    return d


# --------------------------------------------------------------------------- reading files and pages back

class _Tables(HTMLParser):
    """Every <table> of a page: caption, header cells, body rows and footer rows."""

    def __init__(self):
        super().__init__()
        self.tables, self._t, self._cell, self._part, self._row = [], None, None, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._t = {"caption": "", "headers": [], "rows": [], "foot": []}
        elif self._t is None:
            return
        elif tag in ("thead", "tbody", "tfoot"):
            self._part = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td", "caption"):
            self._cell = []

    def handle_endtag(self, tag):
        if self._t is None:
            return
        if tag == "caption":
            self._t["caption"] = "".join(self._cell).strip()
            self._cell = None
        elif tag in ("th", "td") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            target = {"thead": "headers", "tfoot": "foot"}.get(self._part, "rows")
            if target == "headers":
                self._t["headers"] = self._row
            else:
                self._t[target].append(self._row)
        elif tag == "table":
            self.tables.append(self._t)
            self._t = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_tables(html: str) -> list[dict]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def csv_sections(content: bytes, dialect: str = "fi") -> tuple[dict, dict]:
    """``(header {label: value}, {section title: [heading row, rows...]})``, read as
    a spreadsheet with Finnish settings reads the file (UTF-8 after the byte-order
    mark, semicolons), or for ``plain`` as Python's default dialect (commas, no
    byte-order mark)."""
    text = content.decode("utf-8")
    if dialect == "fi":
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    else:
        assert not text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text)))
    header, sections, i = {}, {}, 0
    while i < len(rows) and rows[i]:
        header[rows[i][0]] = rows[i][1]
        i += 1
    while i < len(rows):
        if not rows[i]:
            title = rows[i + 1][0]
            j = i + 2
            block = []
            while j < len(rows) and rows[j]:
                block.append(rows[j])
                j += 1
            sections[title] = block
            i = j
        else:
            i += 1
    return header, sections


def xlsx_sections(content: bytes) -> tuple[dict, dict]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    header, sections = {}, {}
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        i = 0
        while rows[i] and rows[i][0] is not None:
            header.setdefault(rows[i][0], rows[i][1])
            i += 1
        while rows[i][0] is None:
            i += 1
        title = rows[i][0]
        block = [r for r in rows[i + 1:] if any(v is not None for v in r)]
        sections[title] = block
    return header, sections
