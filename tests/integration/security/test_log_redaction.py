"""Logs carry no personal data or tokens: a database error is logged without its
SQL parameters, request logs (werkzeug's, gunicorn's) have one-time tokens masked.
The whole suite's logs are scanned at the end of every run (tests/log_scan.py)."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from core.logs import redact
from tests.fixtures import add_failing_route
from tests.log_scan import leaks

pytestmark = pytest.mark.smoke


def test_database_error_is_logged_without_its_parameters(app, client, caplog):
    from core.extensions import db

    def failing():
        # NOT NULL columns left out: an IntegrityError that carries the parameters.
        db.session.execute(sa.text("INSERT INTO clients (first_name, last_name) VALUES (:name, :code)"),
                           {"name": "Aino Virtanen", "code": "070345-003M"})
        return "never"

    app.add_url_rule("/test-db-error", "test_db_error", failing)
    with caplog.at_level(logging.ERROR):
        r = client.get("/test-db-error")
    assert r.status_code == 500
    assert "INSERT INTO clients" in caplog.text  # the statement is there ...
    assert "Aino Virtanen" not in caplog.text and "070345-003M" not in caplog.text  # ... its values are not
    assert "hide_parameters" in caplog.text


def test_request_log_masks_tokens(caplog):
    token = "Xq3v_9Lr2kTz8mNw4bYc7dPe1fGh5jKs0aUoViRtE2w"
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('127.0.0.1 - - "%s" %s -', f"GET /feedback/{token} HTTP/1.1", 200)
        logging.getLogger("werkzeug").info('"%s" %s', f"GET /shop/orders/12?token={token}&lang=fi HTTP/1.1", 200)
        logging.getLogger("gunicorn.access").info("%(r)s %(s)s", {"r": f"POST /feedback/{token}/thanks HTTP/1.1", "s": 302})
    assert token not in caplog.text
    assert "/feedback/***" in caplog.text and "token=***&lang=fi" in caplog.text


def test_exception_text_is_masked(caplog):
    try:
        raise ValueError("no user aino.virtanen@example.fi with code 070345-003M")
    except ValueError:
        logging.getLogger("kotiapu.test").exception("lookup failed for %s", "aino.virtanen@example.fi")
    assert "aino.virtanen" not in caplog.text and "070345-003M" not in caplog.text


@pytest.mark.parametrize("text", [
    "GET /feedback/Xq3v_9Lr2kTz8mNw4bYc7dPe1fGh5jKs0aUoViRtE2w HTTP/1.1",
    "mail to sanna.lehtinen@demo.kotiapu.fi", "henkilötunnus 070345-003M", "Authorization: Bearer abc.def-123",
])
def test_redact_leaves_nothing_the_scan_finds(text):
    assert leaks(text) or "Bearer" in text
    assert leaks(redact(text)) == []
    assert "abc.def-123" not in redact(text)


def test_postgresql_error_details_are_masked():
    text = ('null value in column "birth_date" violates not-null constraint\n'
            "DETAIL:  Failing row contains (1, Aino Virtanen, 070345-003M, null).\n"
            'duplicate key value violates unique constraint "uq_users_email"\n'
            "Key (email)=(aino@example.fi) already exists.")
    masked = redact(text)
    assert "Aino Virtanen" not in masked and "aino@example.fi" not in masked and "070345-003M" not in masked
    assert redact("Failing row contains (1, Aino Virtanen).") == "Failing row contains (***)."
    assert "Key (email)=(***) already exists" in redact("Key (email)=(x@y) already exists.")


def test_plain_paths_stay_readable():
    assert redact("GET /organisation/attachments/12 HTTP/1.1") == "GET /organisation/attachments/12 HTTP/1.1"
    assert redact("GET /static/css/kotiapu.css?v=3 HTTP/1.1") == "GET /static/css/kotiapu.css?v=3 HTTP/1.1"
