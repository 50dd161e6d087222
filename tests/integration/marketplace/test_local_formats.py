"""Issue 20, point 8 in the shop: a Finnish buyer's confirmation page and e-mail
write the desired date as Finns write dates ("4.5.2099", never "2099-05-04") and
euro amounts with a decimal comma and space-grouped thousands ("1 125,00 €")."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.models import OutgoingEmail
from tests.integration.marketplace.test_receipt_and_menu import _hidden

pytestmark = pytest.mark.smoke

NBSP = "\u00a0"


def test_the_confirmation_page_and_email_use_finnish_formats(client, db, shop, run_jobs):
    client.get("/?lang=fi")
    client.post("/cart/add", data={"offering_id": shop["offering"].id, "quantity": 25, "next": "/services"})
    checkout = client.get(f"/shop/checkout/{shop['company'].id}").get_data(as_text=True)
    data = {"name": "Liisa Laine", "email": "liisa@example.fi", "phone": "040 222 3333",
            "address": "Satakunnankatu 5", "postal_code": "33100", "desired_date": "2099-05-04",
            "desired_time": "aamupäivä", "message": "", "payment": "invoice",
            "expected_total_cents": _hidden(checkout, "expected_total_cents"),
            "submission": _hidden(checkout, "submission")}
    page = client.post(f"/shop/checkout/{shop['company'].id}", data=data, follow_redirects=True).get_data(as_text=True)
    assert re.search(r"SH-\d{4}-\d{6}", page)
    assert "Toivottu aika" in page and "4.5.2099 aamupäivä" in page and "2099-05-04" not in page
    assert f"1{NBSP}125,00{NBSP}€" in page  # 25 h × 45,00 €
    assert "25,5" in page and "25.5" not in page  # the VAT rate
    run_jobs()
    mail = db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.to_address == "liisa@example.fi")).first()
    assert mail is not None and mail.language == "fi"
    assert "Toivottu aika: 4.5.2099 aamupäivä" in mail.body and "2099-05-04" not in mail.body
    assert f"1{NBSP}125,00{NBSP}€" in mail.body


def test_one_set_of_filters_in_each_language(app):
    from datetime import date, datetime, timezone

    from flask import render_template_string
    from flask_babel import force_locale

    template = ("{{ 123450|money }}|{{ 1234567.891|number(1) }}|{{ 0.8333|percent }}|{{ day|d }}|{{ at|dt }}|"
                "{{ at|t }}|{{ day|month }}|{{ '2026-12-12 klo 9'|dates_in_text }}|{{ none|money }}")
    values = {"day": date(2026, 12, 12), "at": datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc)}
    expected = {
        "fi": f"1{NBSP}234,50{NBSP}€|1{NBSP}234{NBSP}567,9|83{NBSP}%|12.12.2026|1.12.2026 1.30|1.30|12/2026|"
              "12.12.2026 klo 9|–",
        "sv": f"1{NBSP}234,50{NBSP}€|1{NBSP}234{NBSP}567,9|83{NBSP}%|12.12.2026|1.12.2026 1.30|1.30|12/2026|"
              "12.12.2026 klo 9|–",
        "en": "€1,234.50|1,234,567.9|83%|12 Dec 2026|1 Dec 2026 01:30|01:30|Dec 2026|12 Dec 2026 klo 9|–",
    }
    with app.test_request_context():
        for language, want in expected.items():
            with force_locale(language):
                assert render_template_string(template, **values) == want, language
