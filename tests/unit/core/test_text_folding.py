"""Which template texts core.i18n translates when a template is compiled
(``_fold_texts``), and what it puts in their place: exactly what
``_template_gettext`` returns when rendered (``Markup(translation) % {}``), and
only where that is known when compiling. Through a plain Jinja environment with
the application's template callables; the application's own environment and
pages are tested in tests/integration/core/test_template_texts_kept.py."""

import jinja2
import pytest
from markupsafe import Markup

from core.i18n import _fold_texts, _template_gettext, _template_ngettext, folded_text

CATALOGUE = {"Save": "Tallenna", "Edit": "Muokkaa", "Tricky": "Tom & Jerry <b>x</b> 100%% 'q'", "Broken": "50% off",
             "a %(x)s": "b %(x)s"}


class _Catalogue:
    def ugettext(self, text):
        return CATALOGUE.get(text, text)


class _Folding(jinja2.Environment):
    translations = _Catalogue()

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        _fold_texts(self, tree, name, self.translations)
        return tree


@pytest.fixture
def env():
    env = _Folding(autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
                   extensions=["jinja2.ext.i18n"])
    env.install_null_translations(newstyle=True)
    env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    return env


def code(env, source, name="page.html"):
    return env.compile(source, name, raw=True)


def calls_a_text_function(compiled: str) -> bool:
    """Whether the compiled template looks up ``_``/``gettext``/``ngettext`` when rendered."""
    return any(f"undefined(name={name!r})" in compiled for name in ("_", "gettext", "ngettext"))


def test_the_folded_text_is_the_one_template_gettext_returns():
    assert folded_text(_Catalogue(), "Tricky") == Markup("Tom & Jerry <b>x</b> 100% 'q'")
    assert type(folded_text(_Catalogue(), "Save")) is Markup
    with pytest.raises(TypeError):
        folded_text(_Catalogue(), "Broken")


@pytest.mark.parametrize("source", ['{{ _("Save") }}', '{{ gettext("Save") }}', "{% trans %}Save{% endtrans %}",
                                    '{% autoescape true %}{{ _("Save") }}{% endautoescape %}',
                                    '{% macro m() %}{{ _("Save") }}{% endmacro %}{{ m() }}'])
def test_a_constant_text_is_translated_when_compiled(env, source):
    compiled = code(env, source)
    assert "Tallenna" in compiled and not calls_a_text_function(compiled)
    # Nothing is called when rendered: no application context needed here.
    assert env.from_string(source).render() == "Tallenna"


def test_a_constant_text_outside_output_is_the_markup(env):
    source = '{% set t = _("Tricky") %}{{ t }}|{{ t ~ "<i>" }}|{{ [_("Save"), _("Edit")]|join(", ") }}'
    compiled = code(env, source)
    assert not calls_a_text_function(compiled)
    assert env.from_string(source).render() == "Tom & Jerry <b>x</b> 100% 'q'|Tom & Jerry <b>x</b> 100% 'q'&lt;i&gt;" \
                                               "|Tallenna, Muokkaa"


@pytest.mark.parametrize("source", [
    '{{ _("a %(x)s", x=1) }}',  # variables: formatted and escaped when rendered
    '{{ _(name) }}',
    '{{ ngettext("Save", "Saves", n) }}',
    "{% trans n=1 %}Save {{ n }}{% endtrans %}",
    '{{ _("Broken") }}',  # raises when rendered, as before
    '{% autoescape false %}{{ _("Save") }}{% endautoescape %}',  # a plain text there
    '{% autoescape flag %}{{ _("Save") }}{% endautoescape %}',  # known only when rendered
    '{% set _ = x %}{{ _("Save") }}',  # the template's own _
    '{% for _ in x %}{{ _("Save") }}{% endfor %}',
    '{% macro m(_) %}{{ _("Save") }}{% endmacro %}',
    '{% from "x.html" import y as _ %}{{ _("Save") }}',
    '{% import "x.html" as _ %}{{ _("Save") }}',
])
def test_other_calls_are_left_to_be_made_when_rendered(env, source):
    compiled = code(env, source)
    assert "Tallenna" not in compiled and "context.call(" in compiled


def test_a_plain_text_template_is_left_as_it_is(env):
    assert "Tallenna" not in code(env, '{{ _("Save") }}', "mail.txt")


def test_a_name_bound_in_the_template_is_left_but_the_other_is_folded(env):
    compiled = code(env, '{% set _ = x %}{{ _("Save") }}{{ gettext("Edit") }}')
    assert "Muokkaa" in compiled and "Tallenna" not in compiled


def test_only_the_application_s_callable_is_folded(env):
    env.globals["_"] = lambda text: text
    compiled = code(env, '{{ _("Save") }}{{ gettext("Edit") }}')
    assert "Muokkaa" in compiled and "Tallenna" not in compiled
