"""Outgoing e-mail. Services call ``queue_email`` inside their transaction; the
``send_email`` job delivers it after commit: through SMTP when MAIL_URL is set,
otherwise the stored row is the delivery (the dev-only mail page shows it).

A worker process keeps its SMTP connection open between messages (at most
``_SMTP_MESSAGES_PER_CONNECTION`` messages, idle at most ``_SMTP_IDLE_SECONDS``), so a
backlog of mail does not pay a TCP (and TLS, and login) handshake per message
(docs/jobs.md, *Performance*)."""

from __future__ import annotations

import atexit
import os
import smtplib
import ssl
import threading
import time
from email import policy
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse

import sqlalchemy as sa
from flask import current_app

from core.db import utcnow
from core.extensions import db
from core.jobs import enqueue
from core.models import OutgoingEmail


def queue_email(to: str, subject: str, body: str, language: str = "fi", dedupe_key: str | None = None) -> OutgoingEmail | None:
    """Store a message and record the job that sends it. With ``dedupe_key`` a second
    call for the same event stores nothing (returns None): nobody gets it twice."""
    if dedupe_key is not None:
        exists = db.session.query(OutgoingEmail.id).filter_by(dedupe_key=dedupe_key).first()
        if exists:
            return None
    msg = OutgoingEmail(to_address=to, subject=subject[:300], body=body, language=language, dedupe_key=dedupe_key)
    db.session.add(msg)
    db.session.flush()
    enqueue(send_email, msg.id, queue="mail")
    return msg


_E = OutgoingEmail.__table__
# Marks a message sent (or stored) and reads it, in one statement: nothing for a
# message sent already. The row stays locked until the job commits, so a second
# delivery of the same job running at the same time waits and then finds it sent.
_CLAIM = (sa.update(_E).where(_E.c.id == sa.bindparam("email_id"), _E.c.sent_at.is_(None))
          .values(status=sa.bindparam("status", type_=_E.c.status.type),
                  sent_at=sa.bindparam("now", type_=_E.c.sent_at.type))
          .returning(_E.c.to_address, _E.c.subject, _E.c.body, _E.c.language))


def send_email(email_id: int) -> str:
    """Job: deliver one stored message once. Raises on SMTP failure so RQ retries
    (the job's transaction rolls back, and the message is not marked sent)."""
    url = current_app.config.get("MAIL_URL")
    status = "sent" if url else "stored"
    db.session.flush()
    msg = db.session.connection().execute(_CLAIM, {"email_id": email_id, "status": status, "now": utcnow()}).one_or_none()
    if msg is None:
        return "skipped"
    if url:
        _smtp_send(url, current_app.config["MAIL_FROM"], msg)
    return status


# A kept connection is used for at most this many messages (servers limit messages
# per session) and is checked with NOOP when it has been idle this long (servers
# drop idle sessions; RFC 5321 asks them to wait at least 5 minutes).
_SMTP_MESSAGES_PER_CONNECTION = 100
_SMTP_IDLE_SECONDS = 30
_smtp_lock = threading.Lock()
_smtp = {}  # "conn", "url", "pid", "sent", "used_at"


def _smtp_connect(url: str) -> smtplib.SMTP:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
    if parsed.scheme == "smtps":
        server = smtplib.SMTP_SSL(parsed.hostname, port, timeout=20, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(parsed.hostname, port, timeout=20)
    try:
        if query.get("starttls", ["0"])[0] in ("1", "true"):
            server.starttls(context=ssl.create_default_context())
        if parsed.username:
            server.login(unquote(parsed.username), unquote(parsed.password or ""))
    except BaseException:
        server.close()
        raise
    return server


def _smtp_close(quit: bool = True) -> None:
    """Forget the kept connection (QUIT unless the socket belongs to another process,
    e.g. the parent of a forked work horse)."""
    conn = _smtp.pop("conn", None)
    if conn is None:
        return
    if quit and _smtp.get("pid") == os.getpid():
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            pass
    conn.close()


def _smtp_connection(url: str) -> smtplib.SMTP:
    """This process's open connection to ``url``: the kept one while it is usable,
    else a new one."""
    conn = _smtp.get("conn")
    if conn is not None:
        if _smtp["pid"] != os.getpid():
            _smtp.pop("conn")  # inherited over fork: the parent's socket, not ours to use
            conn = None
        elif _smtp["url"] != url or _smtp["sent"] >= _SMTP_MESSAGES_PER_CONNECTION:
            _smtp_close()
            conn = None
        elif time.monotonic() - _smtp["used_at"] > _SMTP_IDLE_SECONDS:
            try:
                if conn.noop()[0] != 250:
                    raise smtplib.SMTPServerDisconnected("NOOP refused")
            except (smtplib.SMTPException, OSError):
                _smtp_close(quit=False)
                conn = None
    if conn is None:
        conn = _smtp_connect(url)
        _smtp.update(conn=conn, url=url, pid=os.getpid(), sent=0)
    return conn


def _smtp_send(url: str, sender: str, msg: OutgoingEmail) -> None:
    email = EmailMessage(policy=policy.default)
    email["From"] = sender
    email["To"] = msg.to_address
    email["Subject"] = msg.subject
    email["Content-Language"] = msg.language
    email.set_content(msg.body)
    with _smtp_lock:
        conn = _smtp_connection(url)
        reused = _smtp["sent"] > 0
        try:
            conn.send_message(email)
        except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
            _smtp_close(quit=False)
            if not reused:
                raise
            # The kept session had been closed by the server: one more try on a new
            # one (as RQ's retry would, 10 s later). The message may have gone
            # through before the drop only if the server lost the session after
            # accepting it: the edge docs/jobs.md names for every SMTP retry.
            conn = _smtp_connection(url)
            try:
                conn.send_message(email)
            except (smtplib.SMTPException, OSError):
                _smtp_close(quit=False)
                raise exc from None
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException):
            # The server answered with an error and smtplib reset the transaction:
            # the session stays usable unless the server closed it (421).
            if conn.sock is None:
                _smtp_close(quit=False)
            else:
                _smtp["used_at"] = time.monotonic()
            raise
        except (smtplib.SMTPException, OSError):
            # The session is in an unknown state: the next message opens a new one.
            # This one is retried by RQ (its row is not marked sent).
            _smtp_close(quit=False)
            raise
        _smtp["sent"] += 1
        _smtp["used_at"] = time.monotonic()


@atexit.register
def _smtp_quit_at_exit() -> None:
    with _smtp_lock:
        _smtp_close()


def render_email(template: str, language: str, **context) -> tuple[str, str]:
    """Render ``templates/<template>`` in ``language``: its first line is
    ``Subject: ...``, the rest the plain-text body."""
    from flask import render_template
    from flask_babel import force_locale

    lang = language if language in ("fi", "sv", "en") else "fi"
    with force_locale(lang):
        text = render_template(template, **context)
    first, _, body = text.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"{template} must start with a Subject: line")
    return first[len("Subject:"):].strip(), body.strip() + "\n"


def send_templated(to: str | None, template: str, language: str, dedupe_key: str, **context):
    """Render and queue one e-mail (nothing when there is no address)."""
    if not to:
        return None
    subject, body = render_email(template, language, **context)
    return queue_email(to, subject, body, language=language, dedupe_key=dedupe_key)


def language_of(languages) -> str:
    """The first interface language a person speaks (fi, sv, en), else Finnish."""
    for lang in languages or []:
        if lang in ("fi", "sv", "en"):
            return lang
    return "fi"
