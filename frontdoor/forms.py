"""Front-door forms: the shape of input only; the rules are in frontdoor.services.

The help request form has no required-field validators of its own: the service
checks everything and names each problem, and the page is shown again with
everything typed still in place. The form's own CSRF check is the only one on the
public page (the page is exempt from the global check, whose error page would lose
what was typed)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from core.inputs import Form as FlaskForm
from wtforms import (
    BooleanField, EmailField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from clients.forms import ClientForm  # noqa: F401  (the conversion uses the client form)
from frontdoor import services as svc
from frontdoor.models import ASSESSMENT_QUESTIONS, TOPICS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass  # unknown values are reported by the service


def _choices(labels: dict, keys) -> list[SelectChoice]:
    return [SelectChoice(k, labels[k]) for k in keys]


def _answers(question: str) -> list[SelectChoice]:
    return _choices(svc.ANSWER_LABELS[question], ASSESSMENT_QUESTIONS[question])


class HelpRequestForm(FlaskForm):
    class Meta:
        csrf_time_limit = None

    for_whom = RadioField(_l("Who needs help?"), validate_choice=False,
                          choices=_choices(svc.FOR_WHOM_LABELS, ("self", "relative", "neighbour")))
    topics = MultiCheckboxField(_l("What is hard now? Choose one or more."),
                                choices=_choices(svc.TOPIC_LABELS, TOPICS))
    message = TextAreaField(_l("Tell us more in your own words (optional)"), render_kw={"rows": 5})
    name = StringField(_l("Name of the person we should talk to"), render_kw={"autocomplete": "name"})
    phone = TelField(_l("Phone number"), render_kw={"autocomplete": "tel", "inputmode": "tel"})
    email = EmailField(_l("E-mail address"), render_kw={"autocomplete": "email"})
    best_time = StringField(_l("When is the best time to call? (optional)"))
    postal_code = StringField(_l("Postal code of the home where help is needed"),
                              render_kw={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 5})
    language = RadioField(_l("Language we should use"), validate_choice=False,
                          choices=[SelectChoice(k, v) for k, v in svc.LANGUAGE_LABELS.items()])
    daily_tasks = RadioField(svc.QUESTION_LABELS["daily_tasks"], validate_choice=False, choices=_answers("daily_tasks"))
    helpers = RadioField(svc.QUESTION_LABELS["helpers"], validate_choice=False, choices=_answers("helpers"))
    worry = RadioField(svc.QUESTION_LABELS["worry"], validate_choice=False, choices=_answers("worry"))
    consent_to_contact = BooleanField(_l("I agree that the guidance service may contact me about this request"))
    # The honeypot: hidden from people (and from screen readers), filled in by bots.
    homepage = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})

    def request_data(self) -> dict:
        return {"for_whom": self.for_whom.data, "topics": list(self.topics.data or []), "name": self.name.data,
                "phone": self.phone.data, "email": self.email.data, "postal_code": self.postal_code.data,
                "language": self.language.data, "best_time": self.best_time.data, "message": self.message.data,
                "consent_to_contact": bool(self.consent_to_contact.data)}

    def answers(self) -> dict:
        return {q: self[q].data for q in ("daily_tasks", "helpers", "worry") if self[q].data}


class StaffHelpRequestForm(HelpRequestForm):
    channel = RadioField(_l("How did the request come in?"), validate_choice=False, default="phone",
                         choices=_choices(svc.CHANNEL_LABELS, ("phone", "chat")))
    consent_to_contact = BooleanField(_l("The person agreed to be contacted about this request"))

    def request_data(self) -> dict:
        return {**super().request_data(), "channel": self.channel.data}


class ButtonForm(FlaskForm):
    """A bare button (claim, release): the CSRF token only."""


class ContactForm(FlaskForm):
    channel = RadioField(_l("How did you reach them?"), validate_choice=False, default="phone",
                         choices=_choices(svc.CONTACT_CHANNEL_LABELS, ("phone", "chat", "email", "visit")))
    outcome = TextAreaField(_l("What was discussed"), render_kw={"rows": 3, "maxlength": 300})
    minutes = IntegerField(_l("Minutes (optional)"), validators=[Optional(), NumberRange(1, 600)])


class AssessmentForm(FlaskForm):
    daily_tasks = RadioField(svc.QUESTION_LABELS["daily_tasks"], validate_choice=False, choices=_answers("daily_tasks"))
    helpers = RadioField(svc.QUESTION_LABELS["helpers"], validate_choice=False, choices=_answers("helpers"))
    worry = RadioField(svc.QUESTION_LABELS["worry"], validate_choice=False, choices=_answers("worry"))
    complexity = RadioField(svc.QUESTION_LABELS["complexity"], validate_choice=False, choices=_answers("complexity"))

    def answers(self) -> dict:
        return {q: self[q].data for q in ASSESSMENT_QUESTIONS if self[q].data}


class ConfirmForm(FlaskForm):
    segment = RadioField(_l("Client segment"), validate_choice=False,
                         choices=_choices(svc.SEGMENT_LABELS, ("independent", "guidance", "intensive")))
    service_type_ids = MultiCheckboxField(_l("Services to start with"), coerce=int)
    reason = TextAreaField(_l("Reason, if you chose differently from the suggestion"), render_kw={"rows": 2})


class CloseForm(FlaskForm):
    advice = TextAreaField(_l("Advice given"), render_kw={"rows": 4})


class RuleForm(FlaskForm):
    question = SelectField(_l("Question"), validate_choice=False,
                           choices=[SelectChoice(q, svc.QUESTION_LABELS[q]) for q in ASSESSMENT_QUESTIONS])
    answer = SelectField(_l("Answer"), validate_choice=False,
                         choices=[SelectChoice(a, svc.ANSWER_LABELS[q][a]) for q in ASSESSMENT_QUESTIONS
                                  for a in ASSESSMENT_QUESTIONS[q]])
    segment = SelectField(_l("Suggest at least this segment"), validate_choice=False,
                          choices=[SelectChoice("", _l("No segment")),
                                   *_choices(svc.SEGMENT_LABELS, ("independent", "guidance", "intensive"))])
    service_type_id = SelectField(_l("Suggest this service"), validate_choice=False, coerce=lambda v: int(v) if v else None)
    note = StringField(_l("Why (shown to staff with the suggestion)"))
    active = BooleanField(_l("In use"), default=True)
