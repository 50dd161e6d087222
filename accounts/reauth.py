"""Re-authentication before a sensitive action.

``@recent_auth_required`` (under the route and role decorators) lets the view run
when the user gave their password (and code) within ``REAUTH_MINUTES``; otherwise
it asks for them again and then continues what the user was doing:

- a POST (erase a client, change a role, disable a user, reset a second factor):
  the page asking for the password posts back to the same address, carrying the
  posted values in hidden fields; when the password (and code) are right, the view
  runs on those values as if the first POST had gone through;
- a GET (export a client's data): the user goes to ``/account/confirm`` and comes
  back to the address after confirming.

Wrong passwords and codes count as failed logins (throttled).
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.utils import redirect

from accounts import second_factor
from accounts.forms import ReauthForm
from accounts.services import LoginError
from core.errors import DomainError, RateLimited
from core.uow import undo_changes

PREFIX = "reauth"


def _throttled() -> RateLimited:
    return RateLimited(ngettext("Too many failed attempts. For your safety, login is paused for %(num)s minute. "
                                "You can also ask your administrator to reset your password.",
                                "Too many failed attempts. For your safety, login is paused for %(num)s minutes. "
                                "You can also ask your administrator to reset your password.",
                                current_app.config["LOGIN_WINDOW_MINUTES"]))


def confirm_identity(form: ReauthForm) -> None:
    """Check the re-authentication form of the current user. Raises DomainError
    (with the field's message) when the password or code is wrong, RateLimited when
    throttled; on success the time of authentication is renewed."""
    user = current_user._get_current_object()
    address = request.remote_addr
    try:
        second_factor.check_password(user, form.password.data, address)
    except RateLimited:
        raise _throttled() from None
    except LoginError:
        message = _("The password is wrong.")
        raise DomainError(message, code="invalid_credentials", status=401, fields={"password": [message]}) from None
    if second_factor.enabled_factor(user) is not None:
        try:
            second_factor.check_code(user, form.code.data, address)
        except RateLimited:
            raise _throttled() from None
        except LoginError:
            message = _("The code is wrong or has already been used. Type the six digits your authenticator app "
                        "shows now.")
            raise DomainError(message, code="invalid_code", status=401, fields={"code": [message]}) from None
    second_factor.mark_authenticated()


def reauth_page(form: ReauthForm, action: str, carried: list[tuple[str, str]], status: int):
    return render_template("accounts/reauthenticate.html", form=form, action=action, carried=carried,
                           has_factor=second_factor.enabled_factor(current_user) is not None,
                           minutes=current_app.config["REAUTH_MINUTES"]), status


def _carried() -> list[tuple[str, str]]:
    """The values of the interrupted POST, to send again (CSRF tokens are rendered
    fresh by the template, this form's own fields are not carried)."""
    return [(k, v) for k, values in request.form.lists()
            if not k.startswith(PREFIX + "-") for v in values]


def _forget_reauth_fields() -> None:
    """The interrupted action runs on its own values only: the password and code are
    taken out of the request's form (so that nothing, e.g. a confirmation page that
    carries the posted values on, ever sees them). Werkzeug keeps the parsed form in
    the request's ``__dict__``."""
    kept = MultiDict([(k, v) for k, values in request.form.lists()
                      if not k.startswith(PREFIX + "-") for v in values])
    request.__dict__["form"] = ImmutableMultiDict(kept)


def recent_auth_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or second_factor.recent_auth():
            return view(*args, **kwargs)
        if request.method != "POST":
            return redirect(url_for("accounts.confirm_identity", next=request.full_path.rstrip("?")))
        action = request.full_path.rstrip("?")
        if not any(k.startswith(PREFIX + "-") for k in request.form):
            return reauth_page(ReauthForm(prefix=PREFIX, formdata=None), action, _carried(), 200)
        form = ReauthForm(prefix=PREFIX)
        if not form.validate():
            return reauth_page(form, action, _carried(), 422)
        try:
            confirm_identity(form)
        except DomainError as exc:
            undo_changes()
            for name, messages in (exc.fields or {}).items():
                form[name].errors = list(form[name].errors) + list(messages)
            if not exc.fields:
                flash(exc.message, "error")
            return reauth_page(form, action, _carried(), exc.status)
        _forget_reauth_fields()
        return view(*args, **kwargs)

    return wrapper
