"""Login and account forms (the shape of input only)."""

from flask_babel import lazy_ngettext
from flask_babel import lazy_gettext as _l

from core.inputs import Form as FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=[SelectChoice("fi", "suomi"), SelectChoice("sv", "svenska"),
                                                    SelectChoice("en", "English")])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=200, message=lazy_ngettext("At least %(num)d character.", "At least %(num)d characters.", 10))],
                        render_kw={"autocomplete": "new-password"})
    repeat = PasswordField(_l("New password again"), validators=[EqualTo("new", message=_l("The passwords do not match."))],
                           render_kw={"autocomplete": "new-password"})


class MachineTokenForm(FlaskForm):
    name = StringField(_l("Name of the system"), validators=[DataRequired(_l("Give the token a name.")), Length(max=100)],
                       description=_l("What uses the token, e.g. the scheduling system. Shown in the token list."))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
                       render_kw={"autocomplete": "username"})


class SetPasswordForm(FlaskForm):
    new = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter the new password.")),
                                                        Length(min=10, max=200, message=lazy_ngettext("At least %(num)d character.", "At least %(num)d characters.", 10))],
                        render_kw={"autocomplete": "new-password"})
    repeat = PasswordField(_l("New password again"), validators=[EqualTo("new", message=_l("The passwords do not match."))],
                           render_kw={"autocomplete": "new-password"})


STAFF_ROLE_CHOICES = [SelectChoice("staff", _l("Guidance staff")), SelectChoice("manager", _l("Manager")),
                      SelectChoice("admin", _l("Administrator"))]


class InviteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=200)],
                       render_kw={"autocomplete": "off"})
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter the e-mail address.")), Length(max=254)],
                       render_kw={"autocomplete": "off"})
    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES, default="staff")
    language = SelectField(_l("Language of the invitation"), default="fi",
                           choices=[SelectChoice("fi", "suomi"), SelectChoice("sv", "svenska"), SelectChoice("en", "English")])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES)


class CodeForm(FlaskForm):
    """The second step: a code from the authenticator app or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"})


class ReauthForm(FlaskForm):
    """The password (and the code, when the user has a second factor) again, before a
    sensitive action."""

    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Code"), validators=[Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"})
