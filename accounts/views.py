"""Login, logout and the user's own account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash

from accounts import bp
from accounts.forms import LanguageForm, LoginForm, MachineTokenForm, PasswordForm
from accounts.services import (
    LoginError,
    authenticate,
    create_machine_token,
    revoke_token_by_id,
    set_language,
    set_password,
    visible_tokens,
)
from core.actions import form_action
from core.errors import DomainError, RateLimited, ValidationFailed


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _log_in(form):
    """One login attempt; a refusal is a DomainError with the page's status and message
    (the service has already recorded a failure for throttling)."""
    try:
        user = authenticate(form.email.data, form.password.data, request.remote_addr)
    except RateLimited:
        raise RateLimited(_("Too many failed attempts. For your safety, login is paused for %(minutes)s minutes. "
                            "You can also ask your administrator to reset your password.",
                            minutes=current_app.config["LOGIN_WINDOW_MINUTES"])) from None
    except LoginError:
        raise DomainError(_("Wrong e-mail address or password."), code="invalid_credentials", status=401) from None
    session.clear()
    login_user(user)
    session.permanent = True
    if user.language in ("fi", "sv", "en"):
        session["lang"] = user.language
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()

    def page(status: int):
        return render_template("accounts/login.html", form=form), status

    if request.method == "POST":
        return form_action(form, lambda: _log_in(form), render=page,
                           next_url=lambda user: _safe_next(request.args.get("next")) or url_for("core.dashboard"))
    return page(200)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


def _change_password(form) -> None:
    user = current_user._get_current_object()
    if not check_password_hash(user.password_hash, form.current.data):
        raise ValidationFailed(_("The current password is wrong."),
                               fields={"current": [_("The current password is wrong.")]})
    try:
        set_password(user, form.new.data)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={"new": [exc.message]}) from None
    login_user(user)  # the session carries the new version


def _change_language(form) -> None:
    set_language(current_user._get_current_object(), form.language.data)
    session["lang"] = form.language.data


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    language_form = LanguageForm(prefix="lang", language=current_user.language)
    password_form = PasswordForm(prefix="pw")

    def page(status: int):
        return render_template("accounts/account.html", language_form=language_form,
                               password_form=password_form), status

    chosen = request.form.get("form") if request.method == "POST" else None
    if chosen == "language":
        return form_action(language_form, lambda: _change_language(language_form), success=_("Language saved."),
                           next_url=url_for("accounts.account"), render=page)
    if chosen == "password":
        return form_action(password_form, lambda: _change_password(password_form),
                           success=_("Password changed. Your other sessions have been logged out."),
                           next_url=url_for("accounts.account"), render=page)
    return page(422 if request.method == "POST" else 200)


# --------------------------------------------------------------------------- API tokens

_SHOWN_SECONDS = 300  # a new machine token waits this long to be shown once


def _keep_for_showing(token: str) -> str:
    """Keep a new token in Redis for one showing (never in the cookie session or a
    URL); returns the key the next page shows it by."""
    import secrets

    from core.redis import get_redis

    key = secrets.token_urlsafe(16)
    get_redis().set(f"kotiapu:new-token:{current_user.id}:{key}", token, ex=_SHOWN_SECONDS)
    return key


def _take_shown(key: str | None) -> str | None:
    if not key or len(key) > 40:
        return None
    from core.redis import get_redis

    value = get_redis().getdel(f"kotiapu:new-token:{current_user.id}:{key}")
    return value.decode() if value else None


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """The user's API tokens (and an organisation administrator's machine tokens):
    when each was created, expires and was last used; revoke; create a machine token."""
    user = current_user._get_current_object()
    form = MachineTokenForm(prefix="machine") if user.is_org_admin else None

    def page(status: int, new_token: str | None = None):
        return render_template("accounts/tokens.html", tokens=visible_tokens(user), form=form,
                               new_token=new_token), status

    if request.method == "POST":
        if form is None:
            abort(403)
        return form_action(form, lambda: create_machine_token(user, form.name.data)[0], render=page,
                           success=_("Machine token created. Copy it now: it is shown only once."),
                           next_url=lambda token: url_for("accounts.tokens", shown=_keep_for_showing(token)),
                           code=303)
    return page(200, _take_shown(request.args.get("shown")))


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    return form_action(None, lambda: revoke_token_by_id(current_user._get_current_object(), token_id),
                       success=_("Token revoked. It no longer works."), next_url=url_for("accounts.tokens"),
                       back=url_for("accounts.tokens"), code=303)
