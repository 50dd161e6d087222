"""The platform's forms write drop-downs with FastSelect: the same markup as
WTForms' own Select, option for option (selected, escaped, bool values, extra
attributes, several values)."""

import pytest
from flask import Flask
from wtforms import Form as PlainForm
from wtforms import SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice as C

from core.inputs import Form


class Choices:
    single = [C("", "All"), C("1", 'Siivous <"kotiin">'), C("2", "Ateria"), C("x&y", "")]
    flags = [C(True, "Yes"), C(False, "No")]


def _forms():
    fields = {
        "kind": SelectField("Kind", choices=Choices.single, default="2"),
        "flag": SelectField("Flag", choices=Choices.flags, coerce=lambda v: v in (True, "True"), default=False),
        "many": SelectMultipleField("Many", choices=Choices.single, default=["1", "x&y"]),
        "extra": SelectField("Extra", choices=[C("a", "A", render_kw={"disabled": True}), C("b", "B")], default="b"),
    }
    ours = type("Ours", (Form,), dict(fields))
    theirs = type("Theirs", (PlainForm,), dict(fields))
    return ours, theirs


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", WTF_CSRF_ENABLED=False)
    return app


@pytest.mark.parametrize("name", ["kind", "flag", "many", "extra"])
def test_fast_select_writes_what_wtforms_writes(app, name):
    ours, theirs = _forms()
    with app.test_request_context("/"):
        mine, plain = ours(), theirs()
        assert type(mine[name].widget).__name__ == "Select"  # before rendering
        rendered = str(mine[name](class_="wide"))
        assert type(mine[name].widget).__name__ == "FastSelect"
        assert rendered == str(plain[name](class_="wide"))
        assert rendered.count("selected") >= 1
