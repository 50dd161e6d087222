"""The reports page carries the dashboard's filters into the download form as
hidden fields: they must not repeat the filter form's ids (issue 20 point 5), and
every link of an error summary must reach an element of the page."""

from __future__ import annotations

import re

import pytest

from tests.integration.clients.test_wording_and_ids import duplicate_ids, parse_ids

pytestmark = pytest.mark.smoke


def test_the_reports_page_has_unique_ids(client, dataset, manager, login_as):
    login_as(manager)
    html = client.get(f"/reports/?date_from=2026-03-01&date_to=2026-04-30&municipality=Tampere"
                      f"&provider_id={dataset.p1.id}&lang=fi").get_data(as_text=True)
    assert duplicate_ids(html) == []
    form = html[html.index('action="/reports/"'):]
    assert re.search(r'id="request-municipality" name="municipality" type="hidden" value="Tampere"', form)
    # The filter form's own controls keep their ids, so their labels still name them.
    parsed = parse_ids(html)
    for name in ("date_from", "date_to", "municipality", "provider_id"):
        assert parsed.ids[name] == 1 and name in parsed.labels_for


def test_a_refused_report_request_links_its_errors_to_controls_that_exist(client, manager, login_as):
    login_as(manager)
    r = client.post("/reports/?lang=en", data={"kind": "secrets", "date_from": "2026-03-01",
                                                "date_to": "2026-03-31"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert duplicate_ids(html) == []
    ids = parse_ids(html).ids
    summaries = re.findall(r'class="error-summary".*?</div>', html, re.S)
    targets = [t for s in summaries for t in re.findall(r'href="#([^"]*)"', s)]
    assert targets
    for target in targets:
        assert ids[target] == 1, f"#{target} reaches nothing"
