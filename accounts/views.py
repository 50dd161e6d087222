"""Login, logout, password reset, the user's own account page (password, language,
sessions) and the administrator's users page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash

from accounts import admin, passwords, second_factor, sessions
from accounts import bp
from accounts.forms import (
    ForgotPasswordForm, InviteForm, LanguageForm, LoginForm, MachineTokenForm, PasswordForm, RoleForm, SetPasswordForm,
)
from accounts.login import SESSION_KEY, complete_login, end_login, refresh_login
from accounts.models import Role
from accounts.reauth import recent_auth_required
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
from core.errors import DomainError, GoneError, RateLimited, ValidationFailed
from core.roles import role_required


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _throttled() -> RateLimited:
    return RateLimited(ngettext("Too many failed attempts. For your safety, login is paused for %(num)s minute. "
                                "You can also ask your administrator to reset your password.",
                                "Too many failed attempts. For your safety, login is paused for %(num)s minutes. "
                                "You can also ask your administrator to reset your password.",
                                current_app.config["LOGIN_WINDOW_MINUTES"]))


def _log_in(form):
    """One login attempt: the credentials are checked; a user with a second factor
    is held (not logged in) until the code is given on the next page
    (``second_factor_views.login_code``), anyone else gets the session from
    ``complete_login`` at once. A refusal is a DomainError with the page's status
    and message (the service has already recorded a failure for throttling).
    Returns where to go next."""
    try:
        user = authenticate(form.email.data, form.password.data, request.remote_addr)
    except RateLimited:
        raise _throttled() from None
    except LoginError:
        raise DomainError(_("Wrong e-mail address or password."), code="invalid_credentials", status=401) from None
    target = _safe_next(request.args.get("next"))
    if second_factor.enabled_factor(user) is not None:
        second_factor.hold_login(user, target)
        return url_for("accounts.login_code")
    complete_login(user)
    if second_factor.required_for(user):
        return url_for("accounts.second_factor")
    return target or url_for("core.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()

    def page(status: int):
        return render_template("accounts/login.html", form=form), status

    if request.method == "POST":
        return form_action(form, lambda: _log_in(form), render=page, next_url=lambda target: target)
    return page(200)


@bp.route("/logout", methods=["POST"])
def logout():
    end_login()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


def _change_password(form) -> None:
    user = current_user._get_current_object()
    if not check_password_hash(user.password_hash, form.current.data):
        raise ValidationFailed(_("The current password is wrong."),
                               fields={"current": [_("The current password is wrong.")]})
    try:
        set_password(user, form.new.data, keep_sid=session.get(SESSION_KEY))
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={"new": [exc.message]}) from None
    refresh_login(user)  # this browser's cookie carries the new version


def _change_language(form) -> None:
    set_language(current_user._get_current_object(), form.language.data)
    session["lang"] = form.language.data


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    language_form = LanguageForm(prefix="lang", language=current_user.language)
    password_form = PasswordForm(prefix="pw")

    def page(status: int):
        return render_template("accounts/account.html", language_form=language_form, password_form=password_form,
                               second_factor_applies=second_factor.applies_to(current_user),
                               second_factor_on=second_factor.enabled_factor(current_user) is not None,
                               sessions=sessions.active_sessions(current_user),
                               this_session=g.get("user_session_id")), status

    chosen = request.form.get("form") if request.method == "POST" else None
    if chosen == "language":
        return form_action(language_form, lambda: _change_language(language_form), success=_("Language saved."),
                           next_url=url_for("accounts.account"), render=page)
    if chosen == "password":
        return form_action(password_form, lambda: _change_password(password_form),
                           success=_("Password changed. Your other sessions have been logged out."),
                           next_url=url_for("accounts.account"), render=page)
    return page(422 if request.method == "POST" else 200)


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """End one of the user's own sessions (another device, or this one)."""
    this_one = session_id == g.get("user_session_id")

    def end():
        row = sessions.end_own_session(current_user, session_id)
        if this_one:
            end_login()  # before the message is flashed: logging out empties the cookie
        return row

    return form_action(None, end, success=_("You have logged out.") if this_one else _("The session has ended."),
                       next_url=url_for("accounts.login") if this_one else url_for("accounts.account", _anchor="sessions-h"))


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    return form_action(None, lambda: sessions.end_user_sessions(current_user, "ended", keep_sid=session.get(SESSION_KEY)),
                       success=_("Your other sessions have ended."),
                       next_url=url_for("accounts.account", _anchor="sessions-h"))


# -- password reset and invitations ----------------------------------------------

@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()

    def page(status: int):
        return render_template("accounts/forgot_password.html", form=form), status

    if request.method == "POST":
        return form_action(form, lambda: passwords.request_reset(form.email.data, request.remote_addr),
                           success=ngettext("If %(email)s is the address of a login, a link for choosing a new "
                                            "password is on its way there. The link works once, within %(num)s minute.",
                                            "If %(email)s is the address of a login, a link for choosing a new "
                                            "password is on its way there. The link works once, within %(num)s minutes.",
                                            current_app.config["PASSWORD_RESET_MINUTES"],
                                            email=(form.email.data or "").strip()[:254]),
                           next_url=url_for("accounts.login"), render=page)
    return page(200)


@bp.route("/password/new/<token>", methods=["GET", "POST"], endpoint="set_password")
def set_password_page(token: str):
    try:
        row = passwords.token_row(token)
    except GoneError as exc:
        return render_template("accounts/link_invalid.html", message=exc.message), 410
    form = SetPasswordForm()

    def page(status: int):
        return render_template("accounts/set_password.html", form=form, invitation=row.purpose == passwords.INVITE,
                               email=row.user.email), status

    if request.method == "POST":
        return form_action(form, lambda: passwords.use_token(token, form.new.data),
                           success=_("Your password is saved. Log in with your e-mail address and the new password."),
                           next_url=url_for("accounts.login"), render=page)
    return page(200)


# -- the administrator's users page ----------------------------------------------

def _int_arg(name: str, default: int = 1) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 6 else default


@bp.get("/admin/users")
@role_required(Role.ADMIN)
def admin_users():
    q = request.args.get("q", "")[:100]
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    page = _int_arg("page")
    rows, total = admin.list_users(current_user, q=q, role=role, status=status, page=page)
    return render_template("accounts/admin_users.html", rows=rows, total=total, q=q, role=role, status=status,
                           page=page, page_size=admin.PAGE_SIZE, roles=list(Role))


@bp.route("/admin/users/invite", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_invite():
    form = InviteForm()

    def page(status: int):
        return render_template("accounts/admin_invite.html", form=form), status

    if request.method == "POST":
        return form_action(form, lambda: admin.invite_user(current_user, form.email.data, form.name.data,
                                                           form.role.data, form.language.data),
                           success=lambda user: _("Invitation sent to %(email)s.", email=user.email),
                           next_url=lambda user: url_for("accounts.admin_user", user_id=user.id), render=page)
    return page(200)


@bp.get("/admin/users/<int:user_id>")
@role_required(Role.ADMIN)
def admin_user(user_id: int):
    try:
        user = admin.get_user(current_user, user_id)
    except DomainError:
        abort(404)
    return render_template("accounts/admin_user.html", user=user, role_form=RoleForm(role=user.role),
                           staff_roles=admin.STAFF_ROLES, open_sessions=sessions.active_sessions(user),
                           factor_applies=second_factor.applies_to(user),
                           factor=second_factor.factor_of(user))


def _user_action(user_id: int, action, success: str):
    back = url_for("accounts.admin_user", user_id=user_id)
    return form_action(None, action, success=success, next_url=back, back=back)


@bp.post("/admin/users/<int:user_id>/role")
@role_required(Role.ADMIN)
@recent_auth_required
def admin_change_role(user_id: int):
    form = RoleForm()
    back = url_for("accounts.admin_user", user_id=user_id)
    return form_action(form, lambda: admin.change_role(current_user, user_id, form.role.data),
                       success=_("Role changed. The user's open sessions have ended."), next_url=back, back=back)


@bp.post("/admin/users/<int:user_id>/disable")
@role_required(Role.ADMIN)
@recent_auth_required
def admin_disable(user_id: int):
    return _user_action(user_id, lambda: admin.set_active(current_user, user_id, False),
                        _("The user is disabled and their sessions have ended."))


@bp.post("/admin/users/<int:user_id>/enable")
@role_required(Role.ADMIN)
def admin_enable(user_id: int):
    return _user_action(user_id, lambda: admin.set_active(current_user, user_id, True), _("The user is enabled."))


@bp.post("/admin/users/<int:user_id>/invitation")
@role_required(Role.ADMIN)
def admin_resend(user_id: int):
    return _user_action(user_id, lambda: admin.resend_invitation(current_user, user_id),
                        _("A new invitation has been sent. The earlier link no longer works."))


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
