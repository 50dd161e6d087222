"""Staffing forms: the shape of input only. The rules (shifts in the future, answer
time before the first shift, ...) are in ``staffing.services``.

Times are typed as local Finnish time (``datetime-local`` inputs) and turned into
UTC by ``local_to_utc``; euros and hours accept a decimal comma.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from core.inputs import Form as FlaskForm
from core.inputs import SubForm as Form
from core.time import local_zone
from wtforms import (
    DateTimeLocalField, FieldList, FormField, IntegerField, SelectField, SelectMultipleField, StringField,
    TextAreaField, ValidationError, widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from staffing.models import Qualification
from staffing.services import QUALIFICATION_LABELS

TIME_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def qualification_choices(blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(str(q), QUALIFICATION_LABELS[q]) for q in Qualification]
    return ([SelectChoice("", blank)] if blank is not None else []) + choices


def local_to_utc(value: datetime | None) -> datetime | None:
    """A naive time typed in the county's time zone, as aware UTC."""
    if value is None:
        return None
    zone = local_zone()
    return value.replace(tzinfo=zone).astimezone(timezone.utc)


def parse_decimal(text: str | None) -> Decimal | None:
    """``38,90`` or ``38.90`` (spaces allowed) as a Decimal; None when not a number."""
    if text is None:
        return None
    cleaned = re.sub(r"[\s\u00a0€]", "", text).replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def _decimal(message):
    def check(form, field):
        if field.data and parse_decimal(field.data) is None:
            raise ValidationError(message)
    return check


class ShiftForm(Form):
    start = DateTimeLocalField(_l("Starts"), format=TIME_FORMAT, validators=[Optional()])
    end = DateTimeLocalField(_l("Ends"), format=TIME_FORMAT, validators=[Optional()])


class RequestForm(FlaskForm):
    unit = StringField(_l("Home-care unit"), validators=[DataRequired(_l("Name the home-care unit.")), Length(max=200)])
    qualification = SelectField(_l("Qualification needed"), choices=qualification_choices(_l("Choose")),
                                validators=[DataRequired(_l("Choose the qualification needed."))])
    postal_code = StringField(_l("Postal code of the workplace"),
                              validators=[DataRequired(_l("Give the postal code.")), Length(max=5)],
                              render_kw={"inputmode": "numeric", "autocomplete": "off"})
    headcount = IntegerField(_l("Number of people needed"),
                             validators=[InputRequired(_l("Give the number of people needed."))])
    shifts = FieldList(FormField(ShiftForm), min_entries=5, max_entries=31)
    respond_by = DateTimeLocalField(_l("Agencies answer by"), format=TIME_FORMAT,
                                    validators=[InputRequired(_l("Give the answer time."))])
    note = TextAreaField(_l("Note to the agencies"), validators=[Optional(), Length(max=2000)])

    def shift_pairs(self) -> list[tuple[datetime | None, datetime | None]]:
        """Filled shift rows as UTC pairs; rows left empty are skipped."""
        pairs = []
        for row in self.shifts:
            start, end = row.form.start.data, row.form.end.data
            if start is None and end is None:
                continue
            pairs.append((local_to_utc(start), local_to_utc(end)))
        return pairs


class ReopenForm(FlaskForm):
    respond_by = DateTimeLocalField(_l("New answer time"), format=TIME_FORMAT,
                                    validators=[InputRequired(_l("Give the new answer time."))])


class CandidateForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    qualification = SelectField(_l("Qualification"), choices=qualification_choices(_l("No candidate")),
                                validators=[Optional()])
    description = StringField(_l("Experience"), validators=[Optional(), Length(max=300)])


class OfferForm(FlaskForm):
    headcount = IntegerField(_l("People offered"), validators=[InputRequired(_l("Give the number of people."))])
    hourly_rate = StringField(_l("Hourly rate per person (€, VAT excluded)"),
                              validators=[DataRequired(_l("Give the hourly rate.")),
                                          _decimal(_l("Give the hourly rate as euros, e.g. 38,90."))],
                              render_kw={"inputmode": "decimal"})
    candidates = FieldList(FormField(CandidateForm), min_entries=3, max_entries=20)
    note = TextAreaField(_l("Note to the unit"), validators=[Optional(), Length(max=2000)])

    def rate_cents(self) -> int | None:
        value = parse_decimal(self.hourly_rate.data)
        return None if value is None else int((value * 100).to_integral_value())

    def candidate_list(self) -> list[dict]:
        """Rows with a qualification chosen; an empty name means anonymous."""
        return [{"name": row.form.name.data or None, "qualification": row.form.qualification.data,
                 "description": row.form.description.data or None}
                for row in self.candidates if row.form.qualification.data]


class HoursForm(FlaskForm):
    hours = StringField(_l("Hours worked in all (every person, every shift)"),
                        validators=[DataRequired(_l("Give the hours worked.")),
                                    _decimal(_l("Give the hours as a number, e.g. 23,5."))],
                        render_kw={"inputmode": "decimal"})

    def minutes(self) -> int | None:
        value = parse_decimal(self.hours.data)
        return None if value is None else int((value * 60).to_integral_value())


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CoverageForm(FlaskForm):
    qualifications = MultiCheckboxField(_l("Qualifications you can provide"), choices=qualification_choices(),
                                        validate_choice=True)
    postal_codes = TextAreaField(_l("Postal codes you cover"), validators=[Length(max=6 * 500)])

    def postal_code_list(self) -> list[str]:
        return [p for p in re.split(r"[\s,;]+", self.postal_codes.data or "") if p]
