"""One unit of work per request (core/uow.py) and the access log through rollbacks.

Real requests through the app with small pages registered for the test: each page
reads a client (``record_access``) and writes a row of its own (an outgoing e-mail),
then answers in one of the ways a real page does. What a user would observe is the
database afterwards: what was committed, and which reads are in the access log.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Blueprint, render_template_string, request
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from core.access import Purpose, record_access, record_access_many
from core.actions import form_action
from core.errors import ConflictError
from core.extensions import db as _db
from core.models import AccessLogEntry, OutgoingEmail
from tests import factories


class NoteForm(FlaskForm):
    note = StringField("Note", validators=[DataRequired()])


def _write(subject: str) -> None:
    _db.session.add(OutgoingEmail(to_address="someone@example.fi", subject=subject, body="-"))
    _db.session.flush()


def _pages(client_ids: list[int]) -> Blueprint:
    bp = Blueprint("uow_test", __name__, url_prefix="/uow-test")
    first = client_ids[0]

    @bp.get("/ok")
    def ok():
        record_access_many(client_ids, "list", Purpose.GUIDANCE, what="names")
        _write("ok")
        return "shown"

    @bp.get("/view-422")
    def view_422():
        record_access(first, "view", Purpose.GUIDANCE)
        _write("view-422")
        return "shown with an error", 422

    @bp.get("/domain-error")
    def domain_error():
        record_access(first, "view", Purpose.GUIDANCE)
        _write("domain-error")
        raise ConflictError("refused")

    @bp.get("/crash")
    def crash():
        record_access(first, "view", Purpose.GUIDANCE)
        _write("crash")
        raise RuntimeError("a bug inside the page")

    @bp.route("/form", methods=["GET", "POST"])
    def form():
        # A page that shows a client and has a form (like the new-order page).
        record_access(first, "view", Purpose.ORDERING)
        form = NoteForm()

        def action():
            _write("form-action")
            if request.form.get("refuse"):
                raise ConflictError("The service refused.", fields={"note": ["Not like that."]})
            return 1

        def render(status):
            return render_template_string("{{ form.note.errors|join(',') }}|{{ form.note.data or '' }}",
                                          form=form), status

        if request.method == "POST":
            return form_action(form, action, success="Saved.", next_url="/uow-test/ok", render=render)
        return render(200)

    return bp


@pytest.fixture
def pages(app, db):
    clients = [factories.ClientFactory() for _ in range(3)]
    db.session.commit()
    app.register_blueprint(_pages([c.id for c in clients]))
    return [c.id for c in clients]


def _state(db):
    db.session.expire_all()
    access = db.session.execute(sa.select(AccessLogEntry.client_id, AccessLogEntry.action)
                                .order_by(AccessLogEntry.id)).all()
    mails = db.session.scalars(sa.select(OutgoingEmail.subject).order_by(OutgoingEmail.id)).all()
    db.session.rollback()
    return [tuple(r) for r in access], list(mails)


def test_a_successful_request_commits_its_changes_and_one_access_row_per_client_shown(client, db, pages):
    assert client.get("/uow-test/ok").status_code == 200
    access, mails = _state(db)
    assert sorted(access) == sorted((cid, "list") for cid in pages)
    assert mails == ["ok"]


def test_a_page_answered_with_an_error_status_keeps_its_read_and_drops_its_changes(client, db, pages):
    assert client.get("/uow-test/view-422").status_code == 422
    access, mails = _state(db)
    assert access == [(pages[0], "view")]
    assert mails == []


def test_a_refused_request_writes_nothing_and_logs_no_read_it_did_not_show(client, db, pages):
    response = client.get("/uow-test/domain-error")
    assert response.status_code == 409
    assert _state(db) == ([], [])


def test_a_500_inside_a_page_writes_nothing_at_all(client, db, pages):
    response = client.get("/uow-test/crash")
    assert response.status_code == 500
    assert _state(db) == ([], [])


def test_a_refused_form_shows_the_client_again_with_exactly_one_access_row(client, db, pages):
    response = client.post("/uow-test/form", data={"note": "typed text", "refuse": "1"})
    assert response.status_code == 409
    # The error is next to its field and what was typed is still there.
    assert response.get_data(as_text=True) == "Not like that.|typed text"
    access, mails = _state(db)
    assert access == [(pages[0], "view")]
    assert mails == []  # the refused action's write is gone


def test_an_invalid_form_is_shown_again_with_422_and_one_access_row(client, db, pages):
    response = client.post("/uow-test/form", data={"note": ""})
    assert response.status_code == 422
    access, mails = _state(db)
    assert access == [(pages[0], "view")]
    assert mails == []


def test_an_accepted_form_commits_once_and_redirects(client, db, pages):
    response = client.post("/uow-test/form", data={"note": "fine"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/uow-test/ok")
    access, mails = _state(db)
    assert access == [(pages[0], "view")]
    assert mails == ["form-action"]


AWKWARD = ['plain', 'a "quoted" word', "back\\slash \\\" both", "NULL", "", "{braces}, commas", "ääkköset – ✓",
           "  spaces around  ", "line\nbreak"]


def test_access_rows_keep_every_text_and_time_exactly_as_recorded(app, db):
    """The rows go to PostgreSQL as array literals (core.uow.array_literal): texts
    with quotes, backslashes, braces, commas, a "NULL", an empty string and non-ASCII
    letters, a missing actor and an aware time come back exactly as they were."""
    from datetime import UTC, datetime

    from core.roles import Role
    from core.uow import insert_access_rows

    clients = [factories.ClientFactory() for _ in AWKWARD]
    actor = factories.UserFactory()
    db.session.commit()
    at = datetime(2026, 12, 6, 18, 30, 15, 123456, tzinfo=UTC)
    rows = [{"at": at, "actor_id": actor.id if i % 2 else None, "actor_role": Role.STAFF if i % 2 else "system",
             "client_id": c.id, "action": "view", "what": text, "purpose": text[::-1], "channel": "web"}
            for i, (c, text) in enumerate(zip(clients, AWKWARD))]
    with app.test_request_context():
        insert_access_rows(rows)
        db.session.commit()
    got = db.session.execute(sa.select(AccessLogEntry.at, AccessLogEntry.actor_id, AccessLogEntry.actor_role,
                                       AccessLogEntry.client_id, AccessLogEntry.what, AccessLogEntry.purpose)
                             .order_by(AccessLogEntry.id)).all()
    assert [tuple(r)[1:] for r in got] == [
        (r["actor_id"], str(r["actor_role"]), r["client_id"], r["what"], r["purpose"]) for r in rows]
    assert all(r[0].replace(tzinfo=UTC) == at for r in got)  # SQLite keeps no zone
