"""Property-based tests (hypothesis) over every web form of the platform: whatever a
browser or an attacker sends, validation never raises, a value with a control
character (NUL among them) or a whole number outside the database's integer range
is refused with a message on its field, and nothing of it reaches a form's data
as valid.

The forms are found by enumerating every subclass of ``core.inputs.Form`` (and
``SubForm``) after importing each domain's ``forms`` module, so a new form is
covered without touching this file."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, FormField
from wtforms.fields import FileField
from wtforms.fields.choices import SelectFieldBase

from app import DOMAINS
from core.inputs import CONTROL_MESSAGE, INT_MAX, INT_MIN, Form, SubForm, has_control_characters


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def all_forms() -> list[type]:
    for name in DOMAINS:
        try:
            importlib.import_module(f"{name}.forms")
        except ModuleNotFoundError:
            pass
    return sorted({*(_subclasses(Form)), *(_subclasses(SubForm))}, key=lambda c: f"{c.__module__}.{c.__qualname__}")


FORMS = all_forms()

control = st.sampled_from(["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\x0b"])
plain_text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
huge = st.one_of(st.integers(min_value=INT_MAX + 1, max_value=2**80), st.integers(min_value=-(2**80), max_value=INT_MIN - 1))
text_with_control = st.builds(lambda a, c, b: a + c + b, plain_text, control, plain_text)
anything = st.one_of(
    plain_text, text_with_control, huge.map(str), st.integers().map(str),
    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "9" * 40, "0", "-1", "", " ", "2026-13-45", "1,5"]),
)


def leaf_names(form_class, prefix: str = "") -> list[str]:
    """The names a browser would post for the form's fields (FieldList rows 0 and 1)."""
    form = form_class(meta={"csrf": False}) if issubclass(form_class, Form) else form_class()
    names = []
    for field in form:
        if isinstance(field, FileField):
            continue
        if isinstance(field, FieldList):
            inner = field.unbound_field.args[0] if field.unbound_field.field_class is FormField else None
            for i in range(2):
                if inner is not None:
                    names += leaf_names(inner, f"{prefix}{field.name}-{i}-")
                else:
                    names.append(f"{prefix}{field.name}-{i}")
        elif isinstance(field, FormField):
            names += leaf_names(field.form_class, f"{prefix}{field.name}-")
        else:
            names.append(prefix + field.name)
    return names


def bound(form_class, data: MultiDict):
    form = form_class(formdata=data, meta={"csrf": False})
    for field in _leaves(form):
        if isinstance(field, SelectFieldBase) and getattr(field, "choices", None) is None:
            field.choices = []  # the views fill these from the database
    return form


def _leaves(form):
    for field in form:
        if isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    yield from _leaves(entry.form)
                else:
                    yield entry
        elif isinstance(field, FormField):
            yield from _leaves(field.form)
        else:
            yield field


@pytest.mark.smoke
def test_every_form_is_bounded():
    from flask_wtf import FlaskForm
    from wtforms import Form as PlainForm

    assert len(FORMS) >= 50
    # Every form of the platform (Flask-WTF's or a plain row form) derives from core.inputs.
    unbounded = [f"{c.__module__}.{c.__qualname__}" for c in {*_subclasses(FlaskForm), *_subclasses(PlainForm)}
                 if c.__module__.split(".")[0] in DOMAINS and not issubclass(c, (Form, SubForm))]
    assert unbounded == []


def _flat(data):
    if isinstance(data, (list, tuple, set)):
        for item in data:
            yield from _flat(item)
    elif isinstance(data, dict):
        for item in data.values():
            yield from _flat(item)
    else:
        yield data


def accepted_values_are_safe(field) -> bool:
    """What a field without errors hands to the view: no control characters, no
    whole number the database cannot hold."""
    for value in _flat(field.data):
        if isinstance(value, str) and has_control_characters(value):
            return False
        if isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
            return False
    return True


@pytest.mark.parametrize("form_class", [f for f in FORMS if issubclass(f, Form)],
                         ids=lambda c: f"{c.__module__}.{c.__qualname__}")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_form_refuses_bad_input_without_crashing(app, form_class, data):
    names = leaf_names(form_class)
    values = {name: data.draw(anything, label=name) for name in names}
    with app.test_request_context("/", method="POST"):
        form = bound(form_class, MultiDict(values))
        valid = form.validate()  # must not raise
        by_name = {f.name: f for f in _leaves(form)}
        for name, value in values.items():
            field = by_name[name]
            if has_control_characters(value):
                assert field.errors, (name, value)
                assert not valid
            if not field.errors:
                assert accepted_values_are_safe(field), (name, value, field.data)


@pytest.mark.parametrize("form_class", [f for f in FORMS if issubclass(f, Form)],
                         ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_nul_in_every_field_is_named(app, form_class):
    names = leaf_names(form_class)
    with app.test_request_context("/", method="POST"):
        form = bound(form_class, MultiDict({n: "abc\x00def" for n in names}))
        # A form without fields (a bare button) has nothing to refuse; the request's
        # NUL guard (core.inputs.refuse_nul_bytes) answers 400 before it anyway.
        assert form.validate() is (not names)
        by_name = {f.name: f for f in _leaves(form)}
        for name in names:
            field = by_name[name]
            assert str(CONTROL_MESSAGE) in field.errors, (name, field.errors)
