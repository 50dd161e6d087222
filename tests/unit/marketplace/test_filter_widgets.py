"""The catalogue's filters are written by fast widgets (``marketplace.forms``): the same
markup as WTForms' own search input, drop-down and label, attribute for attribute
(order, escaping, the selected option, error attributes, option groups, flags)."""

import pytest
from flask import Flask
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form as PlainForm
from wtforms import SearchField, SelectField
from wtforms.fields import Label
from wtforms.fields.choices import SelectChoice as C
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import Select

from marketplace.forms import FastLabel, FastPlainSelect, FastSearchInput

CHOICES = [C("", "All <any> & \"every\""), C("a&b", "A & B"), C("1", Markup("<i>safe</i>")), C("x", "")]


def _form(widget_of):
    fields = {
        "q": SearchField("Search", validators=[Optional(), Length(max=100)], widget=widget_of("search")),
        "pick": SelectField("Pick", choices=CHOICES, validate_choice=False, default="", widget=widget_of("select")),
        "needed": SelectField("Needed", choices=CHOICES, validators=[DataRequired()], validate_choice=False,
                              widget=widget_of("select")),
        "grouped": SelectField("Grouped", choices=[C("g", "G", optgroup="G <1>"), C("h", "H & h", optgroup="H")],
                               widget=widget_of("select")),
        "many": SelectField("Many", choices=CHOICES, widget=widget_of("many")),
        "kw": SelectField("Kw", choices=[C("k", "K", render_kw={"disabled": True}), C("l", "L")],
                          widget=widget_of("select")),
    }
    return type("F", (PlainForm,), fields)


def _ours(kind):
    return {"search": FastSearchInput(), "select": FastPlainSelect(), "many": FastPlainSelect(multiple=True)}[kind]


def _theirs(kind):
    from wtforms.widgets import SearchInput

    return {"search": SearchInput(), "select": Select(), "many": Select(multiple=True)}[kind]


@pytest.fixture(scope="module")
def app():
    return Flask(__name__)


@pytest.mark.parametrize("data", [{}, {"q": 'a "b" <c> & d', "pick": "a&b", "needed": "1", "grouped": "h",
                                       "many": ["x", ""], "kw": "k"}, {"pick": "nothing", "q": ""}])
@pytest.mark.parametrize("name", ["q", "pick", "needed", "grouped", "many", "kw"])
@pytest.mark.parametrize("extra", [{}, {"aria-invalid": "true", "aria-describedby": "x-error"}, {"class_": "wide"}])
def test_the_filters_widgets_write_what_wtforms_writes(app, data, name, extra):
    with app.test_request_context("/"):
        ours, theirs = _form(_ours)(MultiDict(data)), _form(_theirs)(MultiDict(data))
        assert str(ours[name](**extra)) == str(theirs[name](**extra))
        assert isinstance(ours[name](**extra), Markup)


@pytest.mark.parametrize("text", ["Search", Markup("Highest price (€)"), 'Say "<b>" & go'])
@pytest.mark.parametrize("kwargs", [{}, {"text": "Other <t>"}, {"for_": "elsewhere", "class_": "c"}])
def test_the_fast_label_writes_what_wtforms_writes(text, kwargs):
    assert str(FastLabel("f-id", text)(**kwargs)) == str(Label("f-id", text)(**kwargs))
