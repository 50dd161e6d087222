"""Every ``<int:...>`` route of the url_map, web and API, requested with ids that do
not fit PostgreSQL's integer (2^31, 2^63) and with 0, as anonymous and as each role:
the bounded converter (core.inputs) answers 404 (405 where only a catch-all of
other methods matches) before anything reaches the database; never a 500."""

from __future__ import annotations

import re

import pytest

from tests.integration.security.conftest import SUBJECTS

HUGE = (0, 2**31, 2**63, 10**30)


def int_routes(app):
    for rule in app.url_map.iter_rules():
        if any(type(c).__name__ == "BoundedIntConverter" for c in rule._converters.values()):
            yield rule


def url_with(rule, value) -> str:
    def fill(m):
        converter, name = m.group(1), m.group(2)
        if converter == "int":
            return str(value)
        return "x"
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule.rule)


@pytest.mark.smoke
def test_every_int_route_is_bounded(app):
    rules = list(int_routes(app))
    assert len(rules) > 60  # the web and the API
    plain = [r.rule for r in app.url_map.iter_rules() if "<int:" in r.rule and r not in rules]
    assert plain == []


def test_huge_ids_answer_404_for_every_subject(app, subject_clients):
    failures = []
    rules = list(int_routes(app))
    for subject, client in subject_clients.items():
        for rule in rules:
            for value in HUGE:
                url = url_with(rule, value)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    kwargs = {"json": {}} if url.startswith("/api/") and method != "GET" else {}
                    r = client.open(url, method=method, **kwargs)
                    # 405: the path matches no id route, only a catch-all of other methods
                    if r.status_code not in (404, 405):
                        failures.append((subject, method, url, r.status_code))
    assert failures == []
