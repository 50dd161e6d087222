"""Provider forms: the shape of input only. The rules (business ID checksum,
duplicates, file types by content, sizes, Soteri, capacity limits) are checked in
``providers.services`` so that the web and the API refuse the same things."""

from __future__ import annotations

from flask_babel import lazy_ngettext
from flask_babel import lazy_gettext as _l

from core.inputs import Form as FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from accounts.models import ProviderRole
from providers.models import AttachmentKind, ProviderKind
from providers.common import (
    ATTACHMENT_LABELS,
    KIND_LABELS,
    LANGUAGES,
    MAX_DESCRIPTION,
    MAX_REASONS,
    WEEKDAYS,
)


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (rendered inside a fieldset by the template)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        # Unknown values are reported by the service with a clear message.
        pass


def language_choices():
    return [SelectChoice(code, label) for code, label in LANGUAGES.items()]


ROLE_CHOICES = [SelectChoice(ProviderRole.WORKER.value, _l("Worker")),
                SelectChoice(ProviderRole.ADMIN.value, _l("Administrator"))]


class ApplicationForm(FlaskForm):
    name = StringField(_l("Name of the organisation"), validators=[DataRequired(_l("Enter the organisation's name.")),
                                                                    Length(max=200)])
    business_id = StringField(_l("Business ID (Y-tunnus)"),
                              validators=[DataRequired(_l("Enter the business ID (Y-tunnus), e.g. 1234567-8.")),
                                          Length(max=20)], render_kw={"autocomplete": "off", "inputmode": "text"})
    kind = RadioField(_l("Kind of organisation"),
                      choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in ProviderKind],
                      validators=[InputRequired(_l("Choose the kind of organisation."))])
    contact_person = StringField(_l("Contact person"), validators=[DataRequired(_l("Enter the contact person's name.")),
                                                                   Length(max=200)],
                                 render_kw={"autocomplete": "name"})
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter an e-mail address.")),
                                                         Length(max=254)], render_kw={"autocomplete": "email"})
    phone = TelField(_l("Phone number"), validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "tel"})
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)], render_kw={"autocomplete": "url"})
    service_areas = TextAreaField(_l("Service area"), validators=[DataRequired(_l("Name at least one postal code or "
                                                                                  "municipality.")),
                                                                  Length(max=10000)])
    languages = MultiCheckboxField(_l("Languages you serve clients in"), choices=language_choices)
    service_type_ids = MultiCheckboxField(_l("Services you want to offer"), coerce=int, choices=[])
    soteri_registered = BooleanField(_l("The organisation is registered in Soteri, the national register of private "
                                        "social and health service providers"))
    prepayment_register = BooleanField(_l("The organisation is in the prepayment register "
                                          "(needed for the household tax deduction)"))
    description = TextAreaField(_l("Description for clients"), validators=[Length(max=MAX_DESCRIPTION)])
    attachment_insurance = FileField(_l("Insurance certificate"))
    expires_insurance = DateField(_l("Insurance valid until"), validators=[Optional()])
    attachment_self_monitoring_plan = FileField(_l("Self-monitoring plan"))
    attachment_certificate = FileField(_l("Other certificate"))
    expires_certificate = DateField(_l("Certificate valid until"), validators=[Optional()])
    confirm = BooleanField(_l("I confirm that the information is correct and that I may apply on behalf of the "
                              "organisation"), validators=[DataRequired(_l("Confirm the information to apply."))])


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password.")),
                                                         Length(min=10, max=200, message=lazy_ngettext("At least %(num)d character.", "At least %(num)d characters.", 10))],
                             render_kw={"autocomplete": "new-password"})
    repeat = PasswordField(_l("Password again"), validators=[EqualTo("password", message=_l("The passwords do not "
                                                                                            "match."))],
                           render_kw={"autocomplete": "new-password"})


class DecisionForm(FlaskForm):
    action = RadioField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")),
                                                 SelectChoice("request_info", _l("Ask for more information")),
                                                 SelectChoice("reject", _l("Reject"))],
                        validators=[InputRequired(_l("Choose a decision."))])
    reasons = TextAreaField(_l("Reasons (sent to the applicant)"), validators=[Length(max=MAX_REASONS)])


class CompletionForm(FlaskForm):
    completion_by = RadioField(_l("Who may mark service orders completed"), default="admins", choices=[
        SelectChoice("admins", _l("The organisation's administrators only")),
        SelectChoice("members", _l("Every member of the organisation"))],
        validators=[InputRequired(_l("Choose who may complete orders."))])


class ReasonsForm(FlaskForm):
    """Suspend, reinstate, or send an application back for review."""

    reasons = TextAreaField(_l("Reasons (sent to the provider)"), validators=[Length(max=MAX_REASONS)])


class ResubmitForm(FlaskForm):
    note = TextAreaField(_l("What did you add or change?"), validators=[Length(max=MAX_REASONS)])


class ProfileForm(FlaskForm):
    description = TextAreaField(_l("Description for clients"), validators=[Length(max=MAX_DESCRIPTION)])
    languages = MultiCheckboxField(_l("Languages you serve clients in"), choices=language_choices)
    service_areas = TextAreaField(_l("Service area"), validators=[Length(max=10000)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter an e-mail address.")),
                                                         Length(max=254)])
    phone = TelField(_l("Phone number"), validators=[Optional(), Length(max=40)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])
    logo = FileField(_l("Logo (PNG or JPEG, at most 2 MB)"))
    remove_logo = BooleanField(_l("Remove the current logo"))


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter an e-mail address.")),
                                                         Length(max=254)])
    provider_role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class MemberRoleForm(FlaskForm):
    provider_role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class CapacityForm(FlaskForm):
    service_type_id = SelectField(_l("Service"), coerce=int, choices=[],
                                  validators=[InputRequired(_l("Choose a service."))])
    orders_per_week = IntegerField(_l("New orders per week"),
                                   validators=[InputRequired(_l("Give a whole number from 1 to 10000.")),
                                               NumberRange(min=1, max=10000,
                                                           message=_l("Give a whole number from 1 to 10000."))])


class RuleForm(FlaskForm):
    service_type_ids = MultiCheckboxField(_l("Services"), coerce=int, choices=[])
    postal_codes = TextAreaField(_l("Postal codes (empty: all the areas you serve)"), validators=[Length(max=5000)])
    weekdays = MultiCheckboxField(_l("Weekdays the service starts on (none ticked: any day)"), coerce=int,
                                  choices=[SelectChoice(i, day) for i, day in enumerate(WEEKDAYS)])
    capacity_per_week = IntegerField(_l("At most this many orders a week (empty: no limit)"),
                                     validators=[Optional(), NumberRange(min=1, max=10000,
                                                                         message=_l("Give a whole number from 1 to "
                                                                                    "10000, or leave empty."))])


class AttachmentForm(FlaskForm):
    kind = SelectField(_l("Document"), choices=[SelectChoice(k.value, ATTACHMENT_LABELS[k]) for k in AttachmentKind])
    file = FileField(_l("File (PDF, PNG or JPEG)"))
    expires_on = DateField(_l("Valid until (if the document expires)"), validators=[Optional()])
