"""Language choice: the user's saved language, then ``?lang=`` kept in the session,
then DEFAULT_LANGUAGE (Finnish)."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask.globals import _cv_app  # the application context's variable (see current_translations)
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _lazy_gettext_func  # what lazy_gettext calls
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from markupsafe import Markup

from core.current import request_user

LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # Jobs and commands choose their language with flask_babel.force_locale.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    req = request._get_current_object()  # once: every page asks
    if req.path.startswith("/api/"):
        # The API reference page (no session: it is under /api/) follows its ?lang= links.
        if req.path == "/api/docs" and req.args.get("lang") in languages:
            return req.args["lang"]
        # API callers choose with Accept-Language; otherwise Finnish, like the site.
        return req.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = req.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
        return chosen
    kept = session.get("lang")
    if kept in languages:
        return kept
    user = request_user()
    if user and getattr(user, "is_authenticated", False) and user.language in languages:
        return user.language
    # Finnish unless chosen otherwise: the browser's language is not a user's choice here.
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_translations():
    """The catalogue of the current language, looked up once per request and
    language. Flask-Babel resolves the domain, the locale and the catalogue afresh
    for every text (several context-local lookups each), and a page shows hundreds of
    texts. The cache lives on Flask-Babel's own per-request namespace and is keyed on
    the locale and domain objects there, so ``force_locale`` (e-mails in the
    recipient's language) and a domain installed for the request take effect at
    once. The application context is read from Flask's context variable itself (the
    ``g`` proxy costs a lookup per attribute)."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return get_translations()
    ctx = app_ctx.g.__dict__.get("_flask_babel")
    if ctx is not None:
        state = ctx.__dict__
        cached = state.get("kotiapu_translations")
        if cached is not None and cached[0] is state.get("babel_locale") and cached[1] is state.get("babel_domain"):
            return cached[2]
    translations = get_translations()
    ctx = app_ctx.g.__dict__.get("_flask_babel")
    if ctx is not None:
        state = ctx.__dict__
        state["kotiapu_translations"] = (state.get("babel_locale"), state.get("babel_domain"), translations)
    return translations


def current_language() -> str:
    """The current language's code ("fi", "sv", "en"), worked out once per request
    and locale (``str(get_locale())`` formats the locale identifier on every call,
    and dates, names and amounts ask for it once per value shown)."""
    app_ctx = _cv_app.get(None)
    ctx = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    if ctx is not None:
        state = ctx.__dict__
        locale = state.get("babel_locale")
        if locale is not None:
            cached = state.get("kotiapu_language")
            if cached is not None and cached[0] is locale:
                return cached[1]
            language = str(locale)
            state["kotiapu_language"] = (locale, language)
            return language
    locale = get_locale()
    return str(locale) if locale is not None else "fi"


def text_of(value) -> str:
    """A label as text in the current language. A ``lazy_gettext`` string is looked
    up in :func:`current_translations` (``str()`` of it makes Flask-Babel resolve its
    domain, locale and catalogue again: a list page shows a status label per row);
    anything else is ``str()``-ed."""
    if type(value) is LazyString and value._func is _lazy_gettext_func:
        translated = current_translations().ugettext(value._args[0])
        return translated % value._kwargs if value._kwargs else translated
    return str(value)


def install_template_gettext(app) -> None:
    """Templates' ``_``/``gettext``/``ngettext`` through :func:`current_translations`.

    Jinja's i18n extension calls a text through three layers (the ``_`` alias
    resolving ``gettext`` from the context, the new-style wrapper, then the
    function); ``_``, ``gettext`` and ``ngettext`` here do the same in one, with
    the same new-style rules (escaped under autoescape, always %-formatted,
    ``num`` set for plurals). A page shows a hundred texts or more."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)


@pass_context
def _template_gettext(__context, __string: str, **variables):
    translations = current_translations()
    if not variables and __context.eval_ctx.autoescape:
        # A text without variables comes out the same every time: kept with its
        # catalogue (one per language and domain, kept by Flask-Babel), so that a
        # page's headings, labels and buttons are a dictionary lookup each, not a
        # lookup in the catalogue, a Markup and a %-formatting.
        kept = translations.__dict__.get("kotiapu_markup")
        if kept is None:
            kept = translations.__dict__["kotiapu_markup"] = {}
        text = kept.get(__string)
        if text is None:
            # A translation from the platform's own catalogue, as below.
            text = kept[__string] = Markup(translations.ugettext(__string)) % variables  # nosec B704
        return text
    text = translations.ugettext(__string)
    if not variables and "%" not in text:
        # Nothing to format (autoescape off): ``text % {}`` would give the text itself.
        return text
    if __context.eval_ctx.autoescape:
        # A translation from the platform's own catalogue (as Jinja's i18n does);
        # the %-variables are escaped by Markup's own formatting.
        text = Markup(text)  # nosec B704
    return text % variables


@pass_context
def _template_ngettext(__context, __singular: str, __plural: str, __num: int, **variables):
    variables.setdefault("num", __num)
    text = current_translations().ungettext(__singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        text = Markup(text)  # nosec B704
    return text % variables
