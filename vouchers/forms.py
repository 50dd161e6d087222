"""Voucher forms: the shape of input only; the rules are in vouchers.services.

People type hours and euros as they say them ("7,5" hours, "32,50" €); the forms
turn them into the integers the services take (minutes, visits, cents) and refuse
what does not convert exactly."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from core.inputs import Form as FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.errors import ValidationFailed
from core.time import local_today
from vouchers.models import VoucherUnit


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _decimal(text: str) -> Decimal:
    cleaned = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace("€", "").replace(",", ".")
    if not cleaned or len(cleaned) > 15:
        raise ValueError
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite() or value < 0:
        raise ValueError
    return value


def to_integer(unit: str, text: str, *, money: bool = False) -> int:
    """Typed text as the integer of the unit: hours → minutes, euros → cents,
    visits as they are. ValueError when it does not convert exactly."""
    value = _decimal(text)
    if money or unit == VoucherUnit.EURO:
        scaled = value * 100
    elif unit == VoucherUnit.HOUR:
        scaled = value * 60
    else:
        scaled = value
    if scaled != scaled.to_integral_value():
        raise ValueError
    return int(scaled)


class GrantForm(FlaskForm):
    service_type_id = SelectField(_l("Service"), coerce=int, validators=[InputRequired(_l("Choose a service."))])
    unit = RadioField(_l("The voucher is given in"), default="hour", choices=[
        SelectChoice("hour", _l("Hours")), SelectChoice("visit", _l("Visits")), SelectChoice("euro", _l("Euros"))],
        validators=[InputRequired(_l("Choose one."))])
    monthly_amount = StringField(_l("Amount a month"), validators=[DataRequired(_l("Give the amount."))])
    value = StringField(_l("Value per hour or visit (€)"), validators=[Optional()])
    renews = BooleanField(_l("The amount renews every month"), default=True)
    valid_from = DateField(_l("Valid from"), validators=[DataRequired(_l("Give the start of validity."))],
                           default=local_today)
    valid_to = DateField(_l("Valid until (optional)"), validators=[Optional()])

    def amounts(self) -> tuple[int, int | None]:
        """(monthly amount, value in cents per unit) as integers; ValidationFailed
        naming the fields otherwise."""
        errors, amount, value = {}, 0, None
        try:
            amount = to_integer(self.unit.data, self.monthly_amount.data)
        except ValueError:
            errors["monthly_amount"] = [str(_l("Give whole minutes' worth of hours (e.g. 7,5), whole visits, or "
                                               "euros and cents."))]
        if self.unit.data != VoucherUnit.EURO and self.value.data:
            try:
                value = to_integer(self.unit.data, self.value.data, money=True)
            except ValueError:
                errors["value"] = [str(_l("Give euros and cents, e.g. 32,50."))]
        if errors:
            raise ValidationFailed(str(_l("The voucher could not be granted.")), fields=errors)
        return amount, value


class CloseForm(FlaskForm):
    reason = TextAreaField(_l("Reason for closing"), validators=[DataRequired(_l("Give a reason.")),
                                                                   Length(max=2000)])


class RefuseForm(FlaskForm):
    reason = TextAreaField(_l("Reason for refusing (shown to the provider)"),
                           validators=[DataRequired(_l("Give a reason.")), Length(max=2000)])


class BulkApproveForm(FlaskForm):
    event_ids = MultiCheckboxField(_l("Events"), coerce=int, validators=[Optional()])


class EventForm(FlaskForm):
    date = DateField(_l("Date of the service"), validators=[DataRequired(_l("Give the date."))], default=local_today)
    quantity = StringField(_l("Amount"), validators=[DataRequired(_l("Give the amount."))])

    def integer(self, unit: str) -> int:
        return quantity_of(unit, self.quantity.data)


def quantity_of(unit: str, text: str) -> int:
    """A typed amount in the unit's integer, or ValidationFailed on ``quantity``."""
    try:
        return to_integer(unit, text)
    except ValueError:
        raise ValidationFailed(str(_l("The amount is invalid.")), fields={"quantity": [
            str(_l("Give a number: hours (e.g. 1,5), visits (e.g. 2) or euros (e.g. 40,00)."))]}) from None


class CorrectForm(FlaskForm):
    quantity = StringField(_l("Corrected amount"), validators=[InputRequired(_l("Give the amount."))])
    reason = TextAreaField(_l("What is corrected and why"), validators=[DataRequired(_l("Give a reason.")),
                                                                        Length(max=2000)])


class SettleForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(_l("Give the month.")), Length(max=7)])

    def validate_month(self, field):
        text = (field.data or "").strip()
        parts = text.split("-")
        if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2 or not all(p.isdigit() for p in parts) \
                or not 1 <= int(parts[1]) <= 12:
            raise ValidationError(_l("Give the month as YYYY-MM, e.g. 2026-11."))


class FreeServicesForm(FlaskForm):
    service_type_ids = MultiCheckboxField(_l("Services free to the client under the client-fee law"), coerce=int,
                                          validators=[Optional()])


class MarkPaidForm(FlaskForm):
    pass
