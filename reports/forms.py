"""Report forms: the shape of input only. The dashboard's filters (a GET form,
bookmarkable, without CSRF) and the request for a downloadable report (POST, with
CSRF), which carries the same filters as hidden fields. The rules (period length,
known categories and providers) are in ``reports.services``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from core.inputs import Form as FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, Regexp

from reports.aggregates import KIND_TITLES, SEGMENT_LABELS

FORMAT_LABELS = {"xlsx": _l("Excel (XLSX)"), "csv": _l("CSV for Excel with Finnish settings (semicolons)"),
                 "csv_plain": _l("CSV, plain (commas, decimal point)"), "json": _l("JSON")}


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    # Not "From"/"To": a bare "To" is translated as the recipient of a message.
    date_from = DateField(_l("First day of the period"), validators=[Optional()])
    date_to = DateField(_l("Last day of the period"), validators=[Optional()])
    municipality = SelectField(_l("Municipality"), choices=[], validate_choice=False)
    postal_code = StringField(_l("Postal area"), validators=[
        Optional(), Regexp(r"^\d{1,5}$", message=_l("Type a postal code or its first digits, e.g. 331."))])
    category_id = SelectField(_l("Service category"), choices=[], validate_choice=False)
    provider_id = SelectField(_l("Provider"), choices=[], validate_choice=False)
    segment = SelectField(_l("Client segment"), choices=[], validate_choice=False)

    def set_choices(self, municipalities: list[str], categories: list[tuple[int, str]],
                    providers: list[tuple[int, str]]) -> None:
        everything = SelectChoice("", _l("All"))
        self.municipality.choices = [everything] + [SelectChoice(m, m) for m in municipalities]
        self.category_id.choices = [everything] + [SelectChoice(str(i), name) for i, name in categories]
        self.provider_id.choices = [everything] + [SelectChoice(str(i), name) for i, name in providers]
        self.segment.choices = [everything] + [SelectChoice(k, v) for k, v in SEGMENT_LABELS.items()]

    def filters(self) -> dict:
        return {"municipality": self.municipality.data or None, "postal_code": self.postal_code.data or None,
                "category_id": self.category_id.data or None, "provider_id": self.provider_id.data or None,
                "segment": self.segment.data or None}


class RequestForm(FlaskForm):
    kind = SelectField(_l("Report"), choices=[SelectChoice(k, v) for k, v in KIND_TITLES.items()],
                       validators=[DataRequired()])
    format = RadioField(_l("File format"), choices=[SelectChoice(k, v) for k, v in FORMAT_LABELS.items()],
                        default="xlsx",
                        validators=[DataRequired()])
    date_from = HiddenField()
    date_to = HiddenField()
    municipality = HiddenField()
    postal_code = HiddenField()
    category_id = HiddenField()
    provider_id = HiddenField()
    segment = HiddenField()
