"""The template helpers of the long lists read as what they replace: the kept
status badges as ``core/_ui.html``'s ``status_badge`` macro, the kept status choices
as the labels looked up one by one, a template's text without variables as Jinja's
``%``-formatting gives it, and a macro file imported through the application's
``Template`` as Jinja imports it (with the importer's own globals when it has any)."""

import pytest
from flask_babel import force_locale
from markupsafe import Markup

from core.templating import Template, status_badges, status_choices, status_label
from orders.models import OrderStatus


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_kept_badges_and_choices_read_as_the_macro_and_the_labels(app, lang):
    with app.test_request_context("/"), force_locale(lang):
        macro = app.jinja_env.from_string('{% from "core/_ui.html" import status_badge %}{{ status_badge(s) }}')
        badges = status_badges(list(OrderStatus))
        assert badges == {s.value: macro.render(s=s.value) for s in OrderStatus}
        assert status_badges(list(OrderStatus)) is badges  # kept
        assert status_choices(list(OrderStatus)) == tuple((s.value, status_label(s.value)) for s in OrderStatus)
    with app.test_request_context("/"), force_locale("fi" if lang != "fi" else "en"):
        assert status_badges(list(OrderStatus)) != badges  # kept per language


def test_texts_without_variables_read_as_formatted(app):
    with app.test_request_context("/"):
        page = app.jinja_env.from_string('{{ _("100%% <done>") }}|{{ _("<b>") }}|{{ _("a %(x)s", x="<i>") }}'
                                         '{% autoescape false %}|{{ _("<b>") }}{% endautoescape %}')
        assert page.render() == "100% <done>|<b>|a &lt;i&gt;|<b>"
        assert isinstance(app.jinja_env.globals["_"](page.new_context(), "Orders"), Markup)


def test_imports_read_as_jinja_imports_them(app):
    """The kept module of an imported macro file is used when the importer has no
    globals of its own; with its own globals, the imported file sees them."""
    assert app.jinja_env.template_class is Template
    with app.test_request_context("/"):
        env = app.jinja_env
        macros = env.from_string('{% macro shout(x) %}{{ x|upper }}{{ extra|default("") }}{% endmacro %}')
        importer = env.from_string('{% from macros import shout %}{{ shout("a") }}')
        assert importer.render(macros=macros) == "A"
        assert importer.render(macros=macros) == "A"
        assert macros._get_default_module(importer.new_context({})) is macros.module  # the kept module
        own = env.from_string('{% from macros import shout %}{{ shout("a") }}', globals={"extra": "!"})
        assert own.render(macros=macros) == "A!"


def test_a_renders_context_is_the_one_jinja_makes(app):
    """``Template.new_context`` copies the environment's globals itself when the
    template has none of its own: the same context as Jinja's, globals added to the
    environment after loading included; a template with its own globals, a shared
    or a local context take Jinja's own way."""
    import jinja2

    env = app.jinja_env
    with app.test_request_context("/"):
        plain = env.from_string("{{ title }} {{ extra }} {{ _('Orders') }}")
        own = env.from_string("{{ title }} {{ extra }}", globals={"extra": "own", "title": "own title"})
        env.globals["kotiapu_test_late"] = "late"  # after loading: Jinja's ChainMap sees it
        try:
            for template in (plain, own):
                for vars_ in (None, {}, {"title": "vars win", "extra": 1}):
                    ours, jinjas = template.new_context(vars_), jinja2.Template.new_context(template, vars_)
                    assert ours.parent == jinjas.parent and list(ours.parent) == list(jinjas.parent)
                    assert ours.globals_keys == jinjas.globals_keys and ours.blocks == jinjas.blocks
                    assert "kotiapu_test_late" in ours.parent
            assert plain.render(title="T", extra="E") == "T E Tilaukset"
            assert own.render() == "own title own" and own.render(title="T") == "T own"
            shared = plain.new_context({"title": "S"}, shared=True)
            assert shared.parent == {"title": "S"}
        finally:
            del env.globals["kotiapu_test_late"]
