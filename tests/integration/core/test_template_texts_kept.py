"""Templates' texts without variables are kept per catalogue (core.i18n
_template_gettext): the same text as Flask-Babel's in each language, switched at
once by force_locale, and texts with variables still formatted and escaped on
every call."""

from flask import render_template_string
from flask_babel import force_locale, gettext
from markupsafe import escape


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
