"""Pages of the second factor: the code after the password, setting up the
authenticator app, the recovery codes (shown once), confirming one's identity
before a sensitive action, and the administrator's reset. ``enforce_enrolment``
keeps a user who must have a second factor on the set-up page until they have one."""

from __future__ import annotations

import json
import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from accounts import admin, bp, second_factor
from accounts.forms import CodeForm, ReauthForm
from accounts.login import complete_login
from accounts.models import Role
from accounts.reauth import PREFIX, confirm_identity as check_identity, recent_auth_required
from accounts.services import LoginError
from accounts.views import _safe_next, _throttled
from core.actions import Confirmation, form_action
from core.errors import DomainError, PermissionDenied, RateLimited
from core.roles import role_required

_SHOWN_SECONDS = 300


def _keep_codes(codes: list[str]) -> str:
    """Keep new recovery codes in Redis for one showing (never in the cookie or a
    URL); returns the key the next page shows them by."""
    from core.redis import get_redis

    key = secrets.token_urlsafe(16)
    get_redis().set(f"kotiapu:recovery-codes:{current_user.id}:{key}", json.dumps(codes), ex=_SHOWN_SECONDS)
    return key


def _take_codes(key: str | None) -> list[str] | None:
    if not key or len(key) > 40:
        return None
    from core.redis import get_redis

    value = get_redis().getdel(f"kotiapu:recovery-codes:{current_user.id}:{key}")
    return json.loads(value) if value else None


# --------------------------------------------------------------------------- login, step two

def _second_step(user, target: str, form) -> str:
    try:
        used = second_factor.check_code(user, form.code.data, request.remote_addr)
    except RateLimited:
        raise _throttled() from None
    except LoginError:
        message = _("The code is wrong or has already been used. Type the six digits your authenticator app "
                    "shows now, or one of your recovery codes.")
        raise DomainError(message, code="invalid_code", status=401, fields={"code": [message]}) from None
    complete_login(user)
    if used == "recovery":
        left = second_factor.recovery_codes_left(user)
        flash(ngettext("You logged in with a recovery code. %(num)d recovery code is left.",
                       "You logged in with a recovery code. %(num)d recovery codes are left.", left), "info")
    return _safe_next(target) or url_for("core.dashboard")


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    held = second_factor.held_login()
    if held is None:
        second_factor.drop_held_login()
        flash(_("Log in again: the time for giving the code ran out."), "info")
        return redirect(url_for("accounts.login"))
    user, target = held
    form = CodeForm()

    def page(status: int):
        return render_template("accounts/login_code.html", form=form), status

    if request.method == "POST":
        return form_action(form, lambda: _second_step(user, target, form), render=page, next_url=lambda target: target)
    return page(200)


# --------------------------------------------------------------------------- setting up

@bp.route("/account/second-factor", methods=["GET", "POST"], endpoint="second_factor")
@login_required
def second_factor_page():
    user = current_user._get_current_object()
    if not second_factor.applies_to(user):
        return render_template("accounts/second_factor.html", applies=False), 200
    factor = second_factor.enabled_factor(user)
    if factor is not None:
        return render_template("accounts/second_factor.html", applies=True, factor=factor,
                               codes_left=second_factor.recovery_codes_left(user)), 200
    pending = second_factor.start_enrolment(user)
    form = CodeForm()

    def page(status: int):
        uri = second_factor.provisioning_uri(user, pending.secret)
        return render_template("accounts/second_factor.html", applies=True, factor=None, form=form,
                               qr=second_factor.qr_svg(uri, _("QR code for your authenticator app")),
                               secret=second_factor.grouped(pending.secret),
                               required=second_factor.required_for(user)), status

    if request.method == "POST":
        def confirm():
            codes = second_factor.confirm_enrolment(user, form.code.data)
            second_factor.mark_authenticated()
            return codes

        return form_action(form, confirm, render=page,
                           success=_("The second factor is on. From now on you log in with your password and a code "
                                     "from the app."),
                           next_url=lambda codes: url_for("accounts.recovery_codes", shown=_keep_codes(codes)),
                           code=303)
    return page(200)


@bp.get("/account/second-factor/recovery-codes")
@login_required
def recovery_codes():
    codes = _take_codes(request.args.get("shown"))
    if codes is None:
        return redirect(url_for("accounts.second_factor"))
    return render_template("accounts/recovery_codes.html", codes=codes)


@bp.post("/account/second-factor/recovery-codes/new")
@login_required
@recent_auth_required
def new_recovery_codes():
    return form_action(None, lambda: second_factor.regenerate_recovery_codes(current_user._get_current_object()),
                       success=_("New recovery codes made. The earlier ones no longer work."),
                       next_url=lambda codes: url_for("accounts.recovery_codes", shown=_keep_codes(codes)),
                       back=url_for("accounts.second_factor"), code=303)


# --------------------------------------------------------------------------- confirming one's identity

@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
def confirm_identity():
    """The password (and code) again before a sensitive page (a GET, e.g. an export);
    then on to that page."""
    target = _safe_next(request.args.get("next")) or url_for("core.dashboard")
    form = ReauthForm(prefix=PREFIX)
    has_factor = second_factor.enabled_factor(current_user) is not None

    def page(status: int):
        return render_template("accounts/reauthenticate.html", form=form, action=request.full_path.rstrip("?"),
                               carried=[], has_factor=has_factor, back=target,
                               minutes=current_app.config["REAUTH_MINUTES"]), status

    if request.method == "POST":
        return form_action(form, lambda: check_identity(form), render=page, next_url=target, code=303)
    return page(200)


# --------------------------------------------------------------------------- the administrator's reset

@bp.post("/admin/users/<int:user_id>/second-factor/reset")
@role_required(Role.ADMIN)
@recent_auth_required
def admin_reset_second_factor(user_id: int):
    try:
        admin.get_user(current_user, user_id)
    except DomainError:
        abort(404)
    back = url_for("accounts.admin_user", user_id=user_id)
    return form_action(None, lambda: second_factor.reset(current_user._get_current_object(), user_id),
                       success=_("The second factor was reset and the user's sessions have ended. They set up a new "
                                 "one at their next login."),
                       next_url=back, back=back,
                       confirm=lambda: Confirmation(
                           title=_("Reset the user's second factor?"),
                           consequences=[_("The user's authenticator app and recovery codes stop working."),
                                         _("Every session of the user ends."),
                                         _("At their next login they set up the second factor again.")],
                           button=_("Yes, reset the second factor"), back=back))


# --------------------------------------------------------------------------- REQUIRE_SECOND_FACTOR

# What a user who must set up a second factor may still open.
_ALLOWED = {"static", "accounts.second_factor", "accounts.recovery_codes", "accounts.logout", "accounts.login",
            "accounts.login_code", "core.health"}


def enforce_enrolment():
    """``before_request``: with ``REQUIRE_SECOND_FACTOR`` on, staff, managers and
    administrators without a second factor can do nothing but set one up (the web
    pages send them to the set-up page; the API refuses with 403)."""
    if not current_app.config.get("REQUIRE_SECOND_FACTOR") or request.endpoint in _ALLOWED \
            or request.endpoint is None:
        return None
    if not current_user.is_authenticated or not second_factor.applies_to(current_user):
        return None
    if second_factor.enabled_factor(current_user) is not None:
        return None
    if request.path.startswith("/api/"):
        raise PermissionDenied(_("Set up the second factor on your account page in Kotiapu before using the API."),
                               code="second_factor_required")
    flash(_("Set up the second factor before you continue: your role needs it."), "info")
    return redirect(url_for("accounts.second_factor"))
