"""Login, logout and the user's own account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash

from accounts import bp
from accounts.forms import LanguageForm, LoginForm, PasswordForm
from accounts.services import LoginError, authenticate, set_password
from core.errors import RateLimited, ValidationFailed
from core.extensions import db


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, request.remote_addr)
        except RateLimited:
            flash(_("Too many failed attempts. For your safety, login is paused for %(minutes)s minutes. "
                    "You can also ask your administrator to reset your password.",
                    minutes=current_app.config["LOGIN_WINDOW_MINUTES"]), "error")
            status = 429
        except LoginError:
            db.session.commit()  # keep the failure: it counts towards throttling
            flash(_("Wrong e-mail address or password."), "error")
            status = 401
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            session.permanent = True
            if user.language in ("fi", "sv", "en"):
                session["lang"] = user.language
            return redirect(_safe_next(request.args.get("next")) or url_for("core.dashboard"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    language_form = LanguageForm(prefix="lang", language=current_user.language)
    password_form = PasswordForm(prefix="pw")
    if request.method == "POST" and request.form.get("form") == "language" and language_form.validate_on_submit():
        current_user.language = language_form.language.data
        db.session.commit()
        session["lang"] = current_user.language
        flash(_("Language saved."), "success")
        return redirect(url_for("accounts.account"))
    if request.method == "POST" and request.form.get("form") == "password" and password_form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, password_form.current.data):
            password_form.current.errors.append(_("The current password is wrong."))
        else:
            try:
                set_password(current_user, password_form.new.data)
            except ValidationFailed as exc:
                password_form.new.errors.append(exc.message)
            else:
                db.session.commit()
                login_user(current_user._get_current_object())  # the session carries the new version
                flash(_("Password changed. Your other sessions have been logged out."), "success")
                return redirect(url_for("accounts.account"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/account.html", language_form=language_form, password_form=password_form), status
