"""Templates' texts without variables are kept per catalogue (core.i18n
_template_gettext): the same text as Flask-Babel's in each language, switched at
once by force_locale, and texts with variables still formatted and escaped on
every call."""

import io

import pytest
from flask import render_template, render_template_string
from flask_babel import force_locale, gettext
from jinja2 import ChoiceLoader, DictLoader, nodes
from markupsafe import escape

from tests import factories as f


def test_a_kept_text_is_the_catalogue_s_in_each_language(app):
    page = '{{ _("Edit details") }}|{{ _("Edit details") }}|{{ _("No relative acts for the client.") }}'
    seen = set()
    with app.test_request_context("/"):
        for lang in ("fi", "sv", "en", "fi"):
            with force_locale(lang):
                expected = f'{escape(gettext("Edit details"))}|{escape(gettext("Edit details"))}|' \
                           f'{escape(gettext("No relative acts for the client."))}'
                assert render_template_string(page) == expected
                seen.add(expected)
    assert len(seen) == 3  # three languages, three texts (Finnish twice: kept, the same)


def test_a_text_with_variables_is_escaped_on_every_call(app):
    page = '{{ _("Recorded by %(name)s on %(when)s", name=name, when="1.1.2026") }}'
    with app.test_request_context("/"), force_locale("en"):
        assert render_template_string(page, name="<b>A</b>") == "Recorded by &lt;b&gt;A&lt;/b&gt; on 1.1.2026"
        assert render_template_string(page, name="B & C") == "Recorded by B &amp; C on 1.1.2026"


def test_without_autoescape_a_text_is_plain(app):
    page = '{% autoescape false %}{{ _("Edit details") }}{% endautoescape %}|{{ _("Edit details") }}'
    with app.test_request_context("/"), force_locale("en"):
        assert render_template_string(page) == "Edit details|Edit details"


# --------------------------------------------------------------------------- texts translated when compiled
# core.i18n.TemplateEnvironment: a template's constant texts are translated when it is
# compiled, in an overlay of the environment per catalogue.

LANGUAGES = ("fi", "sv", "en")
# Texts of the staff client page with no variables (folded), and each language's own.
PAGE_TEXTS = ("Edit details", "No relative acts for the client.", "The client's own login")


def _translated(text: str, lang: str) -> str:
    with force_locale(lang):
        return gettext(text)  # the template's translation is marked safe, so shown as it is


def test_the_client_page_is_in_each_language_one_after_the_other(app, client, db, login_as):
    staff = f.UserFactory(role="staff")
    person = f.ClientFactory(responsible_worker_id=staff.id)
    db.session.commit()
    login_as(staff)
    for lang in ("fi", "sv", "en", "fi", "en", "sv"):
        html = client.get(f"/clients/{person.id}?lang={lang}").get_data(as_text=True)
        assert f'<html lang="{lang}"' in html
        for text in PAGE_TEXTS:
            assert _translated(text, lang) in html, (lang, text)
            for other in LANGUAGES:
                if _translated(text, other) != _translated(text, lang):
                    assert _translated(text, other) not in html, (lang, other, text)
    # The page's template carries its texts compiled in, in each language's overlay.
    with app.test_request_context("/"):
        source = app.jinja_env.loader.get_source(app.jinja_env, "clients/detail.html")[0]
        for lang in LANGUAGES:
            with force_locale(lang):
                compiled = app.jinja_env.language_overlay().compile(source, "clients/detail.html", raw=True)
            assert repr(_translated("No relative acts for the client.", lang))[1:-1] in compiled
            assert "'No relative acts for the client.'" not in compiled or lang == "en"


@pytest.fixture
def test_templates(app, monkeypatch):
    """Templates of the test's own, found through the app's loader (so loaded through
    the app's environment and its overlays as every page template is)."""
    templates = {}
    monkeypatch.setattr(app, "jinja_loader", ChoiceLoader([DictLoader(templates), app.jinja_loader]))
    return templates


def test_force_locale_renders_in_the_recipient_s_language(app, test_templates):
    from core.mail import render_email

    test_templates["kotiapu_test/letter.html"] = '{{ _("Edit details") }}|{{ _("Choose a new password for Kotiapu") }}'
    with app.test_request_context("/?lang=fi"):
        assert render_template("kotiapu_test/letter.html") == \
            f'{_translated("Edit details", "fi")}|{_translated("Choose a new password for Kotiapu", "fi")}'
        for lang in ("sv", "en", "fi", "sv"):
            subject, body = render_email("accounts/email/password_reset.txt", lang, minutes=30, url="https://x.test/r")
            assert subject == _translated("Choose a new password for Kotiapu", lang)
            assert body.startswith(_translated("Hello,", lang))
            with force_locale(lang):
                html = render_template("kotiapu_test/letter.html")
            assert html == f'{_translated("Edit details", lang)}|{_translated("Choose a new password for Kotiapu", lang)}'
        # The request's own language again, once force_locale is over.
        assert render_template("kotiapu_test/letter.html").startswith(_translated("Edit details", "fi") + "|")


def test_a_text_with_variables_is_still_escaped_and_formatted(app, test_templates):
    test_templates["kotiapu_test/vars.html"] = \
        '{{ _("Recorded by %(name)s on %(when)s", name=name, when=when) }}|{{ _("Edit details") }}'
    for lang in LANGUAGES:
        with app.test_request_context("/"), force_locale(lang):
            html = render_template("kotiapu_test/vars.html", name="<b>A & B</b>", when="1.1.2026")
            expected = gettext("Recorded by %(name)s on %(when)s", name="&lt;b&gt;A &amp; B&lt;/b&gt;", when="1.1.2026")
            assert html == f'{expected}|{gettext("Edit details")}'
            assert "<b>" not in html


def _catalogue(texts: dict):
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.support import Translations

    catalog = Catalog(locale="fi")
    for msgid, msgstr in texts.items():
        catalog.add(msgid, msgstr)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def _install(translations):
    from flask_babel import Domain

    class Only(Domain):
        def get_translations(self):
            return translations

    Only().as_default()


FOLD_PAGE = ('{{ _("Kotiapu fold test") }}|{% set t = gettext("Kotiapu fold test") %}{{ t ~ "<i>" }}|'
             '{{ _("Kotiapu fold test")|length }}|{{ _("Kotiapu fold test %(x)s", x="<i>") }}|'
             '{% autoescape false %}{{ _("Kotiapu fold test") }}{% endautoescape %}')


def test_a_folded_text_is_escaped_as_when_translated_while_rendering(app, test_templates):
    """A translation with &, <, quotes and %% comes out of a folded template exactly as
    out of the same template translated while rendering (``from_string`` on the app's
    environment is compiled without folding): the translation is the platform's own
    and marked safe, ``%%`` formatted to ``%``; a value joined to it is escaped."""
    test_templates["kotiapu_test/fold.html"] = FOLD_PAGE
    test_templates["kotiapu_test/fold.txt"] = '{{ _("Kotiapu fold test") }}'
    translation = "Tom & Jerry <b>x</b> 100%% \"q\" 'q'"
    with app.test_request_context("/"):
        _install(_catalogue({"Kotiapu fold test": translation,
                             "Kotiapu fold test %(x)s": "T & J %(x)s"}))
        folded = render_template("kotiapu_test/fold.html")
        assert folded == render_template_string(FOLD_PAGE)
        shown = "Tom & Jerry <b>x</b> 100% \"q\" 'q'"
        assert folded == f"{shown}|{shown}&lt;i&gt;|{len(shown)}|T & J &lt;i&gt;|{shown}"
        assert render_template("kotiapu_test/fold.txt") == shown
        # The text was compiled in (the folding is in effect for this catalogue).
        template = app.jinja_env.get_template("kotiapu_test/fold.html")
        assert template.environment is app.jinja_env.language_overlay() is not app.jinja_env


def test_a_translation_that_does_not_format_still_fails_when_rendered(app, test_templates):
    test_templates["kotiapu_test/broken.html"] = '{{ _("Kotiapu fold test") }}'
    with app.test_request_context("/"):
        _install(_catalogue({"Kotiapu fold test": "50% off"}))
        with pytest.raises(TypeError):
            render_template_string('{{ _("Kotiapu fold test") }}')
        with pytest.raises(TypeError):
            render_template("kotiapu_test/broken.html")


def test_past_the_overlays_kept_texts_are_translated_while_rendering(app, test_templates):
    """A test's throw-away catalogues: past the few overlays kept, templates are
    loaded without folding, and still read right."""
    test_templates["kotiapu_test/many.html"] = '{{ _("Kotiapu fold test") }}'
    for i in range(app.jinja_env._MAX_OVERLAYS + 3):
        with app.test_request_context("/"):
            _install(_catalogue({"Kotiapu fold test": f"Teksti {i} & <{i}>"}))
            assert render_template("kotiapu_test/many.html") == f"Teksti {i} & <{i}>"


def _bound_names(node) -> set:
    names = {n.name for n in node.find_all(nodes.Name) if n.ctx != "load"}
    for imported in node.find_all(nodes.FromImport):
        names.update(i[1] if isinstance(i, tuple) else i for i in imported.names)
    names.update(i.target for i in node.find_all(nodes.Import))
    names.update(m.name for m in node.find_all(nodes.Macro))
    return names


def test_every_template_keeps_what_the_folding_relies_on(app):
    """What core.i18n._fold_texts relies on beyond one template, over every template:
    ``_`` and ``gettext`` are bound in a template only inside a macro that shares
    nothing with another template (no include, no import with context), so no other
    template can see them; and no ``{% autoescape %}`` block that turns autoescape off
    runs code compiled outside it (a block, ``self``, ``super()``, ``caller()``, a
    macro of the same template), where ``_()`` would give a plain text."""
    env = app.jinja_env
    checked = 0
    for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt"))):
        tree = env.parse(env.loader.get_source(env, name)[0])
        checked += 1
        for macro in tree.find_all((nodes.Macro, nodes.CallBlock)):
            inner = _bound_names(macro) - {macro.name} if isinstance(macro, nodes.Macro) else _bound_names(macro)
            if inner & {"_", "gettext"}:
                assert not list(macro.find_all(nodes.Include)), name
                assert not [i for i in macro.find_all((nodes.Import, nodes.FromImport)) if i.with_context], name
        # A name bound at the top level is seen by included and extended templates.
        outside_macros = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"} - {
            n.name for m in tree.find_all((nodes.Macro, nodes.CallBlock)) for n in m.find_all(nodes.Name)
            if n.ctx != "load"}
        assert not (outside_macros & {"_", "gettext"}), name
        assert not ({m.name for m in tree.body if isinstance(m, nodes.Macro)} & {"_", "gettext"}), name
        own_macros = {m.name for m in tree.find_all(nodes.Macro)}
        for block in tree.find_all(nodes.EvalContextModifier):
            assert type(block) is nodes.ScopedEvalContextModifier, name
            values = [k.value for k in block.options if k.key == "autoescape"]
            if values and isinstance(values[0], nodes.Const) and values[0].value:
                continue
            assert not list(block.find_all(nodes.Block)), name
            for call in block.find_all(nodes.Call):
                callee = call.node
                assert not (isinstance(callee, nodes.Name) and callee.name in own_macros | {"caller", "super"}), name
                assert not (isinstance(callee, nodes.Getattr) and isinstance(callee.node, nodes.Name)
                            and callee.node.name == "self"), name
    assert checked > 150
