"""Language choice: the user's saved language, then ``?lang=`` kept in the session,
then DEFAULT_LANGUAGE (Finnish)."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask.globals import _cv_app  # the application context's variable (see current_translations)
from flask.templating import Environment as FlaskEnvironment
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _lazy_gettext_func  # what lazy_gettext calls
from flask_babel.speaklater import LazyString
from jinja2 import nodes, pass_context
from jinja2.nodes import EvalContext
from jinja2.visitor import NodeTransformer
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


def template_text(value) -> Markup:
    """A text without variables as a template's ``_("…")`` gives it under
    autoescape (:func:`_template_gettext`: the current catalogue's translation as
    markup, %-formatted without variables, kept with the catalogue), for markup
    written in Python where a template wrote the text before. ``value``: a
    ``lazy_gettext`` string (so that the text is extracted) or its message id."""
    msgid = value._args[0] if type(value) is LazyString and value._func is _lazy_gettext_func else value
    return _kept_text(current_translations(), msgid)


def _kept_text(translations, msgid: str) -> Markup:
    """:func:`folded_text` of ``msgid``, kept with its catalogue (one per language
    and domain, kept by Flask-Babel): a dictionary lookup after the first time."""
    kept = translations.__dict__.get("kotiapu_markup")
    if kept is None:
        kept = translations.__dict__["kotiapu_markup"] = {}
    text = kept.get(msgid)
    if text is None:
        text = kept[msgid] = folded_text(translations, msgid)
    return text


def install_template_gettext(app) -> None:
    """Templates' ``_``/``gettext``/``ngettext`` through :func:`current_translations`.

    Jinja's i18n extension calls a text through three layers (the ``_`` alias
    resolving ``gettext`` from the context, the new-style wrapper, then the
    function); ``_``, ``gettext`` and ``ngettext`` here do the same in one, with
    the same new-style rules (escaped under autoescape, always %-formatted,
    ``num`` set for plurals). A page shows a hundred texts or more; those without
    variables are translated when a template is compiled instead
    (:class:`TemplateEnvironment`), to exactly what ``_template_gettext`` returns."""
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
        return _kept_text(translations, __string)
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


# --------------------------------------------------------------------------- texts translated when compiled


def folded_text(translations, string: str) -> Markup:
    """What ``_("…")`` without variables gives under autoescape in ``translations``:
    exactly :func:`_template_gettext`'s ``Markup(translation) % {}``."""
    return Markup(translations.ugettext(string)) % {}  # nosec B704 (the platform's own catalogue, as above)


class TemplateEnvironment(FlaskEnvironment):
    """The application's Jinja environment (``app.jinja_environment``): every
    template is loaded through an overlay of it per catalogue (language), in which a
    template's constant texts are translated once, when it is compiled.

    A page calls ``_("…")`` for every heading, label and button: through Jinja's
    ``context.call`` (which inspects the callable each time) and
    :func:`_template_gettext`, some six function calls each, 57 texts on the staff
    client page. A text without variables comes out the same for every render in a
    language, so :class:`_TextFolder` replaces the call by that constant in the
    overlay of the request's catalogue; Jinja's compiler then writes a constant
    shown by ``{{ }}`` into the template's own static text.

    The environment picks the overlay in ``_load_template`` (``get_template``,
    ``select_template``, ``render_template``) by :func:`current_translations`, the
    very catalogue ``_template_gettext`` would use at that moment: ``?lang=``,
    ``force_locale`` (e-mails in the recipient's language) and a domain a test
    installs take effect on the next template loaded. A template loaded from an
    overlay has the overlay as its environment, so what it extends, includes and
    imports is that language's too. The overlays share the environment's globals,
    filters and tests (Jinja's ``overlay``); each keeps its own compiled templates.

    Without an application context, past ``_MAX_OVERLAYS`` catalogues (a test's
    throw-away ones), and for ``from_string``/``compile``/``parse`` on this
    environment itself, templates are compiled as before, without folding."""

    _kotiapu_translations = None  # an overlay's catalogue; None on the application's environment
    _MAX_OVERLAYS = 8  # three languages; more only when tests install catalogues of their own

    def _load_template(self, name, globals):
        if self._kotiapu_translations is None:
            overlay = self.language_overlay()
            if overlay is not None:
                return overlay._load_template(name, globals)
        return super()._load_template(name, globals)

    def language_overlay(self):
        """The overlay whose templates carry the current catalogue's texts (made on
        first use), or None (no application context, or too many catalogues)."""
        if self._kotiapu_translations is not None:
            return self
        if _cv_app.get(None) is None:
            return None
        translations = current_translations()
        overlays = self.__dict__.get("_kotiapu_overlays")
        if overlays is None:
            overlays = self.__dict__["_kotiapu_overlays"] = {}
        kept = overlays.get(id(translations))
        if kept is not None and kept[0] is translations:
            return kept[1]
        if len(overlays) >= self._MAX_OVERLAYS:
            return None
        overlay = self.overlay()
        overlay.__dict__.pop("_kotiapu_overlays", None)
        overlay._kotiapu_translations = translations
        overlays[id(translations)] = (translations, overlay)  # the catalogue kept alive with it: ids stay unique
        return overlay

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        if self._kotiapu_translations is not None:
            _fold_texts(self, tree, name, self._kotiapu_translations)
        return tree


_TEXT_FUNCTIONS = ("_", "gettext")  # ``{% trans %}`` without variables compiles to gettext("…") too (newstyle)


def _fold_texts(environment, tree: nodes.Template, name: str | None, translations) -> None:
    """Replace ``_("literal")``/``gettext("literal")`` (no other argument) in
    ``tree`` by the constant :func:`folded_text`, where it is exactly what the call
    would return when rendered:

    - only in a template autoescaped by its name (``.html``; not the plain-text
      e-mails) and outside any ``{% autoescape %}`` block that is not a constant
      true (there the call gives a plain text: it is left as it is);
    - only for a name that is the global :func:`_template_gettext` and that the
      template never binds itself (``{% set _ = … %}``, a loop variable, a macro
      argument, an import), so that nothing in it can shadow the global;
    - not when the translation does not format (``Markup % {}`` raises): the call
      stays and raises when rendered, as before.

    What the folding relies on beyond one template (tested over every template in
    tests/integration/core/test_template_texts_kept.py): no template binds ``_`` or
    ``gettext`` where another template would see it (top level, or with an include
    or import with context), and no ``{% autoescape false %}`` block holds a
    ``{% block %}``, ``self``, ``super()``, ``caller()`` or a call of a macro of the
    same template (code compiled outside the block would run there with autoescape
    off, where ``_()`` gives plain text)."""
    names = {n for n in _TEXT_FUNCTIONS if environment.globals.get(n) is _template_gettext}
    if not names or EvalContext(environment, name).autoescape is not True:
        return
    for node in tree.find_all((nodes.EvalContextModifier, nodes.Name, nodes.FromImport, nodes.Import,
                               nodes.Macro)):
        if type(node) is nodes.EvalContextModifier:
            return  # an extension's unscoped change of autoescape: not followed here
        if isinstance(node, nodes.Name):
            if node.ctx != "load":
                names.discard(node.name)
        elif isinstance(node, nodes.FromImport):
            for imported in node.names:
                names.discard(imported[1] if isinstance(imported, tuple) else imported)
        elif isinstance(node, nodes.Import):
            names.discard(node.target)
        elif isinstance(node, nodes.Macro):
            names.discard(node.name)
    if names:
        _TextFolder(environment, names, translations).visit(tree)


class _TextFolder(NodeTransformer):
    def __init__(self, environment, names: set[str], translations):
        self.environment, self.names, self.translations = environment, names, translations
        self.autoescape = [True]  # what ``{% autoescape %}`` blocks make it; None: known only when rendered

    def visit_ScopedEvalContextModifier(self, node):
        value = self.autoescape[-1]
        for keyword in node.options:
            if keyword.key == "autoescape":
                try:
                    value = bool(keyword.value.as_const(None))
                except Exception:  # noqa: BLE001 - not a constant: known only when rendered (Jinja catches all too)
                    value = None
        self.autoescape.append(value)
        try:
            node.body = [self.visit(child) for child in node.body]
        finally:
            self.autoescape.pop()
        return node

    def visit_Call(self, node):
        node = self.generic_visit(node)
        callee = node.node
        if (self.autoescape[-1] is True and type(callee) is nodes.Name and callee.name in self.names
                and callee.ctx == "load" and len(node.args) == 1 and type(node.args[0]) is nodes.Const
                and type(node.args[0].value) is str and not node.kwargs and node.dyn_args is None
                and node.dyn_kwargs is None):
            try:
                text = folded_text(self.translations, node.args[0].value)
            except Exception:  # noqa: BLE001 - raised when rendered instead, as before
                return node
            return nodes.Const.from_untrusted(text, lineno=node.lineno, environment=self.environment)
        return node
