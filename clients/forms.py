"""Client forms: search and registration (the shape of input only)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget


class ClientSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Regexp(r"^\d{5}$", message=_l("Five digits."))])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ClientForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    personal_identity_code = StringField(_l("Personal identity code (optional)"), validators=[Optional(), Length(max=11)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    address = StringField(_l("Street address"), validators=[DataRequired(), Length(max=300)])
    postal_code = StringField(_l("Postal code"), validators=[DataRequired(), Regexp(r"^\d{5}$", message=_l("Five digits."))])
    municipality = StringField(_l("Municipality"), validators=[DataRequired(), Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail address"), validators=[Optional(), Email(), Length(max=254)])
    languages = MultiCheckboxField(_l("Languages the client speaks"), default=["fi"], choices=[
        SelectChoice("fi", "suomi"), SelectChoice("sv", "svenska"), SelectChoice("en", "English"),
        SelectChoice("ru", "русский"), SelectChoice("et", "eesti"), SelectChoice("so", "Soomaali"),
        SelectChoice("ar", "العربية"), SelectChoice("uk", "українська")])
    segment = RadioField(_l("How much coordination does the client need?"), default="guidance", choices=[
        SelectChoice("independent", _l("Independent: copes with little help")),
        SelectChoice("guidance", _l("Needs guidance")),
        SelectChoice("intensive", _l("Needs intensive coordination"))])
    consent_to_share = BooleanField(_l("The client consents to sharing their details with the providers of their services"))
    non_disclosure = BooleanField(_l("Safety non-disclosure marking (turvakielto)"))
