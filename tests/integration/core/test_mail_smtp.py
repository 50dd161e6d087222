"""E-mail through SMTP: a worker keeps its session to the mail server open between
messages, and a session the server has dropped or an address it refuses costs no
other message. A real SMTP server (aiosmtpd) on loopback receives them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from core import mail
from core.mail import queue_email
from core.models import OutboxJob, OutgoingEmail
from tests.fixtures import free_port

pytestmark = pytest.mark.smoke


class Recorder:
    """Keeps every message received, and the client address of its session."""

    def __init__(self):
        self.messages: list[tuple[tuple, str, list[str]]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((session.peer, envelope.content.decode(), list(envelope.rcpt_tos)))
        return "250 OK"

    @property
    def sessions(self) -> int:
        return len({peer for peer, _, _ in self.messages})

    def recipients(self) -> list[str]:
        return [to for _, _, tos in self.messages for to in tos]


@pytest.fixture
def smtp(app):
    port = free_port()
    recorder = Recorder()
    server = {"controller": Controller(recorder, hostname="127.0.0.1", port=port)}
    server["controller"].start()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"

    def restart():
        server["controller"].stop()
        server["controller"] = Controller(recorder, hostname="127.0.0.1", port=port)
        server["controller"].start()

    yield recorder, restart
    mail._smtp_quit_at_exit()  # this process's kept session ends with the test
    server["controller"].stop()


def _queue(db, *addresses):
    rows = [queue_email(a, f"Tilaus vahvistettu {a}", "Hei, tilauksesi on vahvistettu.\n") for a in addresses]
    db.session.commit()
    return [r.id for r in rows]


def _sent(db, ids):
    db.session.expire_all()
    return {m.to_address: (m.status, m.sent_at is not None)
            for m in db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.id.in_(ids)))}


def test_a_backlog_of_mail_goes_through_one_session(db, run_jobs, smtp):
    recorder, _ = smtp
    addresses = [f"asiakas{i}@example.fi" for i in range(8)]
    ids = _queue(db, *addresses)
    assert run_jobs() == 8
    assert sorted(recorder.recipients()) == sorted(addresses)  # each once
    assert recorder.sessions == 1, "a new connection per message"
    assert all(state == ("sent", True) for state in _sent(db, ids).values())
    assert "Subject: Tilaus vahvistettu asiakas3@example.fi" in recorder.messages[3][1]


def test_mail_still_goes_out_after_the_server_drops_the_kept_session(db, run_jobs, smtp):
    recorder, restart = smtp
    _queue(db, "ennen@example.fi")
    run_jobs()
    restart()  # the server goes away and comes back: the worker's session is dead
    ids = _queue(db, "jalkeen1@example.fi", "jalkeen2@example.fi")
    assert run_jobs() == 2  # no failed job (run_jobs fails on one)
    assert recorder.recipients() == ["ennen@example.fi", "jalkeen1@example.fi", "jalkeen2@example.fi"]
    assert recorder.sessions == 2
    assert all(state == ("sent", True) for state in _sent(db, ids).values())


def test_a_refused_address_fails_its_own_job_only(db, run_jobs, smtp):
    recorder, _ = smtp
    ids = _queue(db, "eka@example.fi", "refused@example.fi", "toka@example.fi")
    run_jobs(fail_on_error=False)
    assert recorder.recipients() == ["eka@example.fi", "toka@example.fi"]
    assert recorder.sessions == 1  # the session outlived the refusal
    states = _sent(db, ids)
    assert states == {"eka@example.fi": ("sent", True), "refused@example.fi": ("queued", False),
                      "toka@example.fi": ("sent", True)}
    [refused] = [row for row in db.session.scalars(sa.select(OutboxJob).where(OutboxJob.func == "core.mail.send_email"))
                 if row.args == [ids[1]]]
    assert refused.done_at is None and "SMTPRecipientsRefused" in refused.last_error
