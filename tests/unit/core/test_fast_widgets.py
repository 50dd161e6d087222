"""The platform's forms write text inputs, e-mail inputs, text areas and the CSRF
token with WTForms' own markup through ``fast_html_params``: attribute for
attribute the same (order, escaping, boolean attributes, Markup values)."""

import pytest
from flask import Flask
from markupsafe import Markup
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import TextInput
from wtforms.widgets.core import html_params

from core.inputs import Form, fast_html_params


@pytest.mark.parametrize("kwargs", [
    {},
    {"name": "body", "id": "body", "maxlength": 4000, "rows": 6, "required": True, "disabled": False},
    {"class_": "wide", "for_": "x", "data_user_name": 'a "b" <c> & d', "aria_describedby": "x-hint x-error"},
    {"value": Markup('already "safe" <b>'), "placeholder": Markup("&amp; ok"), "title": 0, "step": 0.5},
    {"value": "", "autocomplete": "new-password", "readonly": True, "id": False},
])
def test_fast_html_params_writes_what_wtforms_writes(kwargs):
    assert fast_html_params(**kwargs) == html_params(**kwargs)
    assert type(fast_html_params(**kwargs)) is Markup


def _forms():
    fields = {
        "name": StringField("Name", validators=[DataRequired(), Length(max=20)], default='Aino "<i>" & co'),
        "email": EmailField("E-mail", validators=[Optional(), Length(max=254)]),
        "note": TextAreaField("Note", validators=[Length(min=2, max=2000)], render_kw={"rows": 2},
                              default="line <1>\nline \"2\""),
        "hidden": HiddenField(default="x&y"),
        "tel": StringField("Phone", widget=TextInput(input_type="tel")),
    }
    return type("Ours", (Form,), dict(fields)), type("Theirs", (PlainForm,), dict(fields))


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", WTF_CSRF_ENABLED=True)
    return app


@pytest.mark.parametrize("name", ["name", "email", "note", "hidden", "tel"])
@pytest.mark.parametrize("extra", [{}, {"class_": "wide", "aria_invalid": "true", "required": False}])
def test_fast_widgets_write_what_wtforms_writes(app, name, extra):
    ours, theirs = _forms()
    with app.test_request_context("/"):
        mine, plain = ours(), theirs()
        rendered = str(mine[name](**extra))
        assert rendered == str(plain[name](**extra))
        fast = type(mine[name].widget).__name__.startswith("Fast")
        assert fast == (name != "tel")  # a widget with an input type of its own is left as it is
        assert 'type="tel"' in str(mine["tel"]())


def test_the_csrf_token_is_written_as_wtforms_writes_it(app):
    ours, _theirs = _forms()
    with app.test_request_context("/"):
        form = ours()
        token = form.csrf_token.current_token
        assert str(form.csrf_token()) == f'<input name="csrf_token" type="hidden" value="{token}">'
        assert type(form.csrf_token.widget).__name__ == "FastHiddenInput"


def test_csrf_hidden_tag_writes_what_a_form_without_fields_writes():
    """The staff client page's small forms share ``csrf_hidden_tag()`` instead of a
    ``Form()`` built for its ``hidden_tag()``: the same markup, the same token."""
    from core.inputs import csrf_hidden_tag

    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", WTF_CSRF_ENABLED=True)
    with app.test_request_context("/"):
        ours, theirs = csrf_hidden_tag(), Form().hidden_tag()
        assert ours == theirs and type(ours) is Markup
        assert 'name="csrf_token"' in ours and 'id=' not in ours
