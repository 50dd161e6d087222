"""Front page, the per-role dashboard, the health check and the dev-only mail page."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, url_for
from flask_login import login_required

from core.current import request_user
from core.extensions import db
from core.models import OutboxJob, OutgoingEmail
from core.registry import dashboard_context, register_dashboard
from core.roles import Role

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    if request_user().is_authenticated:
        return redirect(url_for("core.dashboard"))
    return render_template("core/index.html")


# When the accessibility statement was last checked against the service (update it
# with the statement's text: docs/accessibility.md).
STATEMENT_DATE = date(2026, 12, 6)


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement (Act 306/2019), public, in the page's language."""
    return render_template("core/accessibility.html", statement_date=STATEMENT_DATE,
                           feedback_email=current_app.config.get("ACCESSIBILITY_FEEDBACK_EMAIL") or "")


@bp.get("/dashboard")
@login_required
def dashboard():
    user = request_user()
    data = dashboard_context(user)
    return render_template(f"core/dashboard_{user.role}.html", **data)


def _jobs_section(user) -> dict:
    """Core's part of the administrator's dashboard: jobs not yet done."""
    return {"jobs_waiting": db.session.scalar(
        sa.select(sa.func.count()).select_from(OutboxJob).where(OutboxJob.done_at.is_(None)))}


register_dashboard(Role.ADMIN, _jobs_section)


@bp.get("/healthz")
def health():
    """Liveness and database reachability, for the load balancer."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify({"status": "ok" if status == 200 else "degraded", "database": database}), status


def dev_mail_allowed() -> bool:
    """The development mail page shows every stored e-mail with its one-time links:
    only in development (APP_ENV=development, as under `make run`) without SMTP, and
    only to a logged-in administrator. Everyone else gets 404, and no link to it."""
    return (current_app.config["APP_ENV"] == "development" and not current_app.config["PRODUCTION"]
            and not current_app.config.get("MAIL_URL")
            and request_user().is_authenticated and request_user().role == Role.ADMIN)


@bp.get("/dev/mail")
def dev_mail():
    """Stored e-mails, for development without SMTP. Never in production."""
    if not dev_mail_allowed():
        abort(404)
    messages = db.session.scalars(sa.select(OutgoingEmail).order_by(OutgoingEmail.id.desc()).limit(100)).all()
    return render_template("core/dev_mail.html", messages=messages)


import core.admin_jobs  # noqa: E402,F401
