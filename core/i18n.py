"""Language choice: the user's saved language, then ``?lang=`` kept in the session,
then DEFAULT_LANGUAGE (Finnish)."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # Jobs and commands choose their language with flask_babel.force_locale.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):
        # The API reference page (no session: it is under /api/) follows its ?lang= links.
        if request.path == "/api/docs" and request.args.get("lang") in languages:
            return request.args["lang"]
        # API callers choose with Accept-Language; otherwise Finnish, like the site.
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen in languages:
        if not request.path.startswith("/api/"):
            session["lang"] = chosen
        return chosen
    if session.get("lang") in languages:
        return session["lang"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return current_user.language
    # Finnish unless chosen otherwise: the browser's language is not a user's choice here.
    return current_app.config["BABEL_DEFAULT_LOCALE"]
