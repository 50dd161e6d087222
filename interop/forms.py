"""The webhook endpoint form: the shape of input only; ``interop.webhooks`` checks
the address and the events, so the web and the API refuse the same things."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from core.inputs import Form as FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

EVENT_LABELS = {
    "order.offered": _l("An order is offered to us"),
    "order.accepted": _l("We accepted an order"),
    "order.taken": _l("Another provider took an order offered to us"),
    "order.cancelled": _l("An order is cancelled"),
    "order.completed": _l("An order is completed"),
    "order.message": _l("A message about an order (reserved)"),
    "shop_order.paid": _l("A shop purchase is paid"),
    "staffing_request.opened": _l("A staffing request is sent to us"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass  # unknown values are refused by the service with a clear message


class EndpointForm(FlaskForm):
    url = StringField(_l("Address (URL)"), validators=[DataRequired(), Length(max=500)])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    events = MultiCheckboxField(_l("Events"), choices=[SelectChoice(k, v) for k, v in EVENT_LABELS.items()],
                                validators=[DataRequired(message=_l("Choose at least one event."))])
