"""Client forms: the shape of input only; the rules are in clients.services."""


from flask_babel import lazy_ngettext
from flask_babel import lazy_gettext as _l

from core.inputs import Form as FlaskForm
from wtforms import (
    BooleanField, DateField, EmailField, IntegerField, PasswordField, RadioField, SelectField, SelectMultipleField,
    StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget
from core.time import local_today


class ClientSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Regexp(r"^\d{5}$", message=_l("Five digits."))])
    mine = BooleanField(_l("Only clients I am responsible for"))
    segment = SelectField(_l("Coordination need"), validators=[Optional()], choices=[
        SelectChoice("", _l("Any")), SelectChoice("independent", _l("Independent")),
        SelectChoice("guidance", _l("Needs guidance")), SelectChoice("intensive", _l("Needs intensive coordination"))])
    flagged = BooleanField(_l("Only records waiting for an erasure decision"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


LANGUAGE_CHOICES = [
    SelectChoice("fi", "suomi"), SelectChoice("sv", "svenska"), SelectChoice("en", "English"),
    SelectChoice("ru", "русский"), SelectChoice("et", "eesti"), SelectChoice("so", "Soomaali"),
    SelectChoice("ar", "العربية"), SelectChoice("uk", "українська")]


def segment_choices():
    return [SelectChoice("independent", _l("Independent: copes with little help (check-up every 180 days)")),
            SelectChoice("guidance", _l("Needs guidance (check-up every 60 days)")),
            SelectChoice("intensive", _l("Needs intensive coordination (check-up every 14 days)"))]


class _ClientDetails(FlaskForm):
    """The fields of a client's details, shared by registering and editing."""

    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    address = StringField(_l("Street address"), validators=[DataRequired(), Length(max=300)])
    postal_code = StringField(_l("Postal code"), validators=[DataRequired(), Regexp(r"^\d{5}$", message=_l("Five digits."))])
    municipality = StringField(_l("Municipality"), validators=[DataRequired(), Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail address"), validators=[Optional(), Email(), Length(max=254)])
    non_disclosure = BooleanField(_l("Safety non-disclosure marking (turvakielto)"))


class ClientForm(_ClientDetails):
    personal_identity_code = StringField(_l("Personal identity code (optional)"), validators=[Optional(), Length(max=11)])
    languages = MultiCheckboxField(_l("Languages the client speaks"), default=["fi"], choices=LANGUAGE_CHOICES)
    segment = RadioField(_l("How much coordination does the client need?"), default="guidance", choices=segment_choices())
    consent_to_share = BooleanField(_l("The client consents to sharing their details with the providers of their services"))


class ClientEditForm(_ClientDetails):
    personal_identity_code = StringField(_l("New personal identity code"), validators=[Optional(), Length(max=11)],
                                         render_kw={"autocomplete": "off"})
    remove_identity_code = BooleanField(_l("Remove the personal identity code"))
    languages = MultiCheckboxField(_l("Languages the client speaks"), choices=LANGUAGE_CHOICES)
    segment = RadioField(_l("How much coordination does the client need?"), choices=segment_choices())


class ConsentForm(FlaskForm):
    consent = RadioField(_l("Does the client consent to sharing their details with the providers of their services?"),
                         validators=[InputRequired(_l("Choose one."))], choices=[
                             SelectChoice("yes", _l("Yes, the client consents")),
                             SelectChoice("no", _l("No: the client withdrew or refused consent (no new orders)"))])
    note = StringField(_l("How was the consent given or withdrawn? (optional)"), validators=[Optional(), Length(max=500)])


class HandoverForm(FlaskForm):
    new_worker_id = SelectField(_l("New responsible worker"), coerce=int,
                                validators=[InputRequired(_l("Choose the new responsible worker."))])


class NetworkMemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    role = StringField(_l("Role (e.g. home nurse, doctor, daughter)"), validators=[Optional(), Length(max=120)])
    responsibility = StringField(_l("What they are responsible for"), validators=[Optional(), Length(max=300)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail address"), validators=[Optional(), Email(), Length(max=254)])
    starts_on = DateField(_l("From"), validators=[Optional()], default=local_today)
    ends_on = DateField(_l("Until (optional)"), validators=[Optional()])


def mandate_scope_choices():
    return [SelectChoice("services", _l("See the client's services, purchases and data")),
            SelectChoice("messages", _l("Read and send messages")),
            SelectChoice("buy", _l("Buy self-paid services")),
            SelectChoice("feedback", _l("Give feedback on services"))]


class MandateForm(FlaskForm):
    """What a relative may do for the client, and for how long."""

    scopes = MultiCheckboxField(_l("The relative may"), choices=mandate_scope_choices(),
                                default=["services", "messages", "buy", "feedback"])
    valid_from = DateField(_l("Valid from (optional)"), validators=[Optional()])
    valid_until = DateField(_l("Valid until (optional)"), validators=[Optional()])


class RepresentativeForm(MandateForm):
    name = StringField(_l("Relative's name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Relative's e-mail address (their login)"), validators=[DataRequired(), Email(), Length(max=254)])
    relationship = StringField(_l("Relationship to the client (e.g. daughter)"), validators=[Optional(), Length(max=60)])
    client_consents = BooleanField(_l("The client has consented to this person acting for them"),
                                   validators=[DataRequired(_l("A relative can act for the client only with the client's consent."))])


class LoginForm(FlaskForm):
    email = EmailField(_l("The client's e-mail address"), validators=[DataRequired(), Email(), Length(max=254)])


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("Choose a password (at least 10 characters)"),
                             validators=[DataRequired(), Length(min=10, max=200, message=lazy_ngettext("At least %(num)d character.", "At least %(num)d characters.", 10))],
                             render_kw={"autocomplete": "new-password"})
    repeat = PasswordField(_l("The same password again"),
                           validators=[EqualTo("password", message=_l("The passwords do not match."))],
                           render_kw={"autocomplete": "new-password"})


def channel_choices():
    return [SelectChoice("phone", _l("Phone")), SelectChoice("visit", _l("Visit")), SelectChoice("chat", _l("Chat")),
            SelectChoice("email", _l("E-mail"))]


TOPIC_LABELS = {
    "cleaning": _l("Cleaning"), "meals": _l("Meals"), "shopping": _l("Shopping help"),
    "safety_phone": _l("Safety phone"), "personal_care": _l("Personal care"), "repairs": _l("Small repairs"),
    "transport": _l("Transport"), "carer_support": _l("Support for family carers"),
    "service_voucher": _l("Service vouchers"), "housing": _l("Housing and home alterations"),
    "loneliness": _l("Loneliness and activities"), "memory": _l("Memory concerns"),
    "money": _l("Benefits and money matters"), "home_care": _l("Home care"), "other": _l("Other"),
}


class GuidanceContactForm(FlaskForm):
    channel = RadioField(_l("Channel"), default="phone", choices=channel_choices(),
                         validators=[InputRequired(_l("Choose the channel."))])
    topic = SelectField(_l("Topic"), choices=[SelectChoice(k, v) for k, v in TOPIC_LABELS.items()],
                        validators=[InputRequired()])
    outcome = TextAreaField(_l("Outcome: what advice was given"), validators=[Optional(), Length(max=300)],
                            render_kw={"maxlength": 300, "rows": 3})
    referral = StringField(_l("Referral made to (optional)"), validators=[Optional(), Length(max=200)])
    municipality = StringField(_l("Municipality (optional; for anonymous callers)"), validators=[Optional(), Length(max=100)])
    minutes = IntegerField(_l("Minutes (optional)"), validators=[Optional(), NumberRange(1, 600)])
    client_id = IntegerField(_l("Client (empty: anonymous caller)"), validators=[Optional()])


class GuidanceFilterForm(FlaskForm):
    class Meta:
        csrf = False

    # The page also holds the form that logs a contact (its fields are named
    # channel and topic too): the filters get ids of their own, the names stay.
    since = DateField(_l("From"), validators=[Optional()], id="filter-since")
    until = DateField(_l("Until"), validators=[Optional()], id="filter-until")
    channel = SelectField(_l("Channel"), validators=[Optional()], id="filter-channel",
                          choices=[SelectChoice("", _l("Any"))] + channel_choices())
    topic = SelectField(_l("Topic"), validators=[Optional()], id="filter-topic",
                        choices=[SelectChoice("", _l("Any"))] + [SelectChoice(k, v) for k, v in TOPIC_LABELS.items()])
    mine = BooleanField(_l("Only contacts I logged"), id="filter-mine")


class FollowUpDoneForm(FlaskForm):
    note = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=2000)],
                         render_kw={"maxlength": 2000, "rows": 2})


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give the reason.")), Length(max=1000)],
                           render_kw={"maxlength": 1000, "rows": 3})


class MessageForm(FlaskForm):
    to = RadioField(_l("Who is the message for?"), validators=[InputRequired(_l("Choose who the message is for."))])
    order_id = IntegerField(validators=[Optional()])
    body = TextAreaField(_l("Your message"), validators=[DataRequired(_l("Write your message.")), Length(max=4000)],
                         render_kw={"maxlength": 4000, "rows": 6})


class ErasureRequestForm(FlaskForm):
    reason = TextAreaField(_l("Why do you want your data erased? (optional)"), validators=[Optional(), Length(max=1000)],
                           render_kw={"maxlength": 1000, "rows": 4})
    confirm = BooleanField(_l("I understand that my guidance worker will decide, and that erased data cannot be restored"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])


class AccessLogFilterForm(FlaskForm):
    class Meta:
        csrf = False

    client_id = IntegerField(_l("Client number"), validators=[Optional()])
    actor = StringField(_l("Who (name or e-mail)"), validators=[Optional(), Length(max=100)])
    action = SelectField(_l("Action"), validators=[Optional()], choices=[
        SelectChoice("", _l("Any")), SelectChoice("view", _l("Viewed")), SelectChoice("list", _l("Listed")),
        SelectChoice("change", _l("Changed")), SelectChoice("create", _l("Registered")),
        SelectChoice("order", _l("Ordered")), SelectChoice("export", _l("Exported")), SelectChoice("erase", _l("Erased"))])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
