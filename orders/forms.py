"""Order forms: the shape of input only; the rules are in orders.services."""


from flask_babel import lazy_gettext as _l
from core.inputs import Form as FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget
from core.time import local_today


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OrderForm(FlaskForm):
    service_type_id = SelectField(_l("Service"), coerce=int, validators=[InputRequired(_l("Choose a service."))])
    start_date = DateField(_l("Start date"), validators=[DataRequired(_l("Give the start date."))], default=local_today)
    end_date = DateField(_l("End date (optional)"), validators=[Optional()])
    visits_per_week = IntegerField(_l("Visits per week"), validators=[Optional(), NumberRange(1, 21)])
    minutes_per_visit = IntegerField(_l("Minutes per visit"), validators=[Optional(), NumberRange(5, 1440)])
    funding = RadioField(_l("Funding"), default="municipality", choices=[
        SelectChoice("municipality", _l("Paid by the wellbeing services county")),
        SelectChoice("voucher", _l("Service voucher")),
        SelectChoice("self_paid", _l("Self-paid by the client"))])
    instructions = TextAreaField(_l("Instructions for the provider (no name, address or phone: they are shown only after acceptance)"),
                                 validators=[Optional(), Length(max=4000)])
    mode = RadioField(_l("How to offer"), default="broadcast", choices=[
        SelectChoice("broadcast", _l("To all chosen providers at once: the first to accept gets the order")),
        SelectChoice("single", _l("To one chosen provider only")),
        SelectChoice("ranked", _l("Down the ranked list, one provider at a time"))])
    provider_ids = MultiCheckboxField(_l("Providers"), coerce=int, validators=[Optional()])
    voucher_id = SelectField(_l("Service voucher"), choices=[SelectChoice("", _l("No voucher"))], validators=[Optional()],
                             validate_choice=False)


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason for declining"), validators=[DataRequired(_l("Give a reason.")), Length(max=1000)],
                           id="decline-reason")


class VisitForm(FlaskForm):
    date = DateField(_l("Date of the visit"), validators=[DataRequired(_l("Give the date of the visit."))],
                     default=local_today, id="visit-date")
    minutes = IntegerField(_l("Minutes"), validators=[InputRequired(_l("Give the length of the visit in minutes.")),
                                                      NumberRange(1, 1440)], id="visit-minutes")
    tasks = StringField(_l("Tasks done (separate with commas)"), validators=[Optional(), Length(max=2000)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
    missed = RadioField(_l("Did the visit take place?"), default="no", choices=[
        SelectChoice("no", _l("Yes")), SelectChoice("yes", _l("No: the client was not reached"))])
    concern = RadioField(_l("Did anything worry you about the client's wellbeing?"), default="no", choices=[
        SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes: alert the responsible worker now"))])
    concern_text = TextAreaField(_l("What worried you (required with a concern; only the client's workers read it)"),
                                 validators=[Optional(), Length(max=4000)])
    urgency = RadioField(_l("How soon should the client be contacted?"), validators=[Optional()], choices=[
        SelectChoice("today", _l("Today")), SelectChoice("week", _l("Within a week"))])


class CompleteForm(FlaskForm):
    reason = TextAreaField(_l("Why does the service end now?"), validators=[Optional(), Length(max=2000)],
                           id="complete-reason")


class CloseForm(FlaskForm):
    outcome = RadioField(_l("Did the client get the service?"), validators=[InputRequired(_l("Choose one."))], choices=[
        SelectChoice("received", _l("Yes, the client got the service")),
        SelectChoice("not_received", _l("No, the client did not get the service"))])
    note = TextAreaField(_l("Note (required if not received)"), validators=[Optional(), Length(max=2000)],
                         id="close-note")


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[DataRequired(_l("Give a reason.")), Length(max=2000)],
                           id="cancel-reason")


class ReofferForm(FlaskForm):
    # Ids of its own: the order page holds several forms (their controls are
    # "reoffer-provider_ids-0", "reoffer-mode-0", ...).
    provider_ids = MultiCheckboxField(_l("Providers not offered yet (none ticked: all)"), coerce=int,
                                      validators=[Optional()], id="reoffer-provider_ids")
    mode = RadioField(_l("How to offer"), default="broadcast", choices=[
        SelectChoice("broadcast", _l("To all chosen providers at once")),
        SelectChoice("ranked", _l("One at a time, in the order shown"))], id="reoffer-mode")
