"""The staff form for a relative's personal identity code."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from core.inputs import Form


class IdentityCodeForm(Form):
    identity_code = StringField(_l("The relative's own personal identity code"),
                                validators=[DataRequired(), Length(max=11)], render_kw={"autocomplete": "off"})


class RemoveForm(Form):
    pass
