"""The handover form's worker list (``clients.forms.PlainSelect``) writes exactly
the HTML of wtforms' own ``Select``: names with markup and quotes, a chosen worker,
a required field, numbers and text as values, an empty list."""

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from clients.forms import PlainSelect

pytestmark = pytest.mark.smoke

CHOICES = [
    [(1, "Aino Virtanen"), (2, 'Eero "Eki" <Korhonen>'), (3, "Åsa & Björn"), (4, Markup("<b>bold</b>"))],
    [("a", "A"), ("b&c", "B & C"), ('q"uote', "quote")],
    [(True, "yes"), (False, "no")],
    [(5, "")],  # no label: the value is shown
    [],
]


def _forms(choices, coerce, data=None):
    choices = [SelectChoice(value, label) for value, label in choices]

    class Plain(Form):
        worker = SelectField("Worker", choices=choices, coerce=coerce, widget=PlainSelect(),
                             validators=[InputRequired()])

    class Standard(Form):
        worker = SelectField("Worker", choices=choices, coerce=coerce, validators=[InputRequired()])

    formdata = MultiDict(data or {})
    return Plain(formdata), Standard(formdata)


@pytest.mark.parametrize("choices", CHOICES)
@pytest.mark.parametrize("chosen", [None, 0, -1])
def test_the_same_html_as_wtforms(choices, chosen):
    coerce = int if choices and isinstance(choices[0][0], int) and not isinstance(choices[0][0], bool) else str
    data = {"worker": str(choices[chosen][0])} if chosen is not None and choices else None
    plain, standard = _forms(choices, coerce, data)
    assert str(plain.worker()) == str(standard.worker())
    assert str(plain.worker(**{"aria-describedby": "x-hint", "class_": "wide"})) == \
        str(standard.worker(**{"aria-describedby": "x-hint", "class_": "wide"}))
    if chosen is not None and choices:
        assert " selected " in str(plain.worker()) or "<option selected" in str(plain.worker())
