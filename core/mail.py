"""Outgoing e-mail. Services call ``queue_email`` inside their transaction; the
``send_email`` job delivers it after commit: through SMTP when MAIL_URL is set,
otherwise the stored row is the delivery (the dev-only mail page shows it)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse

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


def send_email(email_id: int) -> str:
    """Job: deliver one stored message once. Raises on SMTP failure so RQ retries."""
    msg = db.session.get(OutgoingEmail, email_id)
    if msg is None or msg.sent_at is not None:
        return "skipped"
    url = current_app.config.get("MAIL_URL")
    if url:
        _smtp_send(url, current_app.config["MAIL_FROM"], msg)
        msg.status = "sent"
    else:
        msg.status = "stored"
    msg.sent_at = utcnow()
    return msg.status


def _smtp_send(url: str, sender: str, msg: OutgoingEmail) -> None:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    email = EmailMessage()
    email["From"] = sender
    email["To"] = msg.to_address
    email["Subject"] = msg.subject
    email["Content-Language"] = msg.language
    email.set_content(msg.body)
    port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
    if parsed.scheme == "smtps":
        server = smtplib.SMTP_SSL(parsed.hostname, port, timeout=20, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(parsed.hostname, port, timeout=20)
    with server:
        if query.get("starttls", ["0"])[0] in ("1", "true"):
            server.starttls(context=ssl.create_default_context())
        if parsed.username:
            server.login(unquote(parsed.username), unquote(parsed.password or ""))
        server.send_message(email)


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
