"""Marketplace forms: the shape of input only (rules live in the services: catalogue.offerings, marketplace.checkout, ...)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import EmailField, Label, SearchField, TelField
from wtforms.fields.choices import SelectChoice as C
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import SearchInput, TextInput

from core.inputs import FastSelect, fast_html_params
from core.inputs import Form as FlaskForm
from core.time import local_today
from marketplace.pricing import MAX_QUANTITY, MIN_QUANTITY

POSTAL = Regexp(r"^\d{5}$", message=_l("A Finnish postal code has five digits."))


class EuroField(Field):
    """Euros typed the Finnish or English way ("45", "45,50", "45.50") -> cents."""

    widget = TextInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data // 100},{self.data % 100:02d}"

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        text = valuelist[0].strip().replace("€", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(_l("Give an amount in euros, e.g. 45,50.")) from None
        if not value.is_finite() or value < 0 or value > 1_000_000 or value != value.quantize(Decimal("0.01")):
            raise ValueError(_l("Give an amount in euros with at most two decimals, e.g. 45,50."))
        self.data = int(value * 100)


# The catalogue's filters are written on every first request of a query: their labels,
# search box and drop-downs with ``core.inputs.fast_html_params`` (WTForms writes each
# attribute with ``Markup.format``) and the drop-downs without WTForms' check of the
# options' signature per drop-down. The same markup as WTForms' (a unit test compares).


class FastSearchInput(SearchInput):
    """WTForms' search input with ``fast_html_params``."""

    html_params = staticmethod(fast_html_params)


class FastPlainSelect(FastSelect):
    """A drop-down of one choice without option groups or validation attributes, its tag
    written with ``fast_html_params``; anything else as ``FastSelect`` writes it."""

    def __call__(self, field, **kwargs):
        flags = getattr(field, "flags", None)
        if self.multiple or field.has_groups() or any(getattr(flags, k, False) for k in self.validation_attrs):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        options = "".join(self.render_option(choice) for choice in field.iter_choices())
        return Markup(f"<select {fast_html_params(name=field.name, **kwargs)}>{options}</select>")  # nosec B704 (escaped)


class FastLabel(Label):
    """WTForms' label with ``fast_html_params``."""

    def __call__(self, text=None, **kwargs):
        if "for_" in kwargs:
            kwargs["for"] = kwargs.pop("for_")
        else:
            kwargs.setdefault("for", self.field_id)
        return Markup(f"<label {fast_html_params(**kwargs)}>{escape(text or self.text)}</label>")  # nosec B704 (escaped)


class CatalogueSearchForm(FlaskForm):
    """The catalogue's filters (GET, bookmarkable: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=100)], widget=FastSearchInput())
    category = SelectField(_l("Category"), coerce=str, validate_choice=False, default="", widget=FastPlainSelect())
    postal_code = StringField(_l("Your postal code"), validators=[Optional(), POSTAL],
                              render_kw={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 5})
    language = SelectField(_l("Language of service"), validate_choice=False, default="", widget=FastPlainSelect())
    kind = SelectField(_l("Provider"), validate_choice=False, default="", widget=FastPlainSelect(),
                       choices=[C("", _l("All providers")), C("ngo", _l("Associations (NGO)")), C("company", _l("Companies"))])
    max_price = EuroField(_l("Highest price (€)"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    sort = SelectField(_l("Order"), validate_choice=False, default="price", widget=FastPlainSelect(),
                       choices=[C("price", _l("Lowest price first")), C("rating", _l("Best rated first")),
                                C("name", _l("By service name"))])


class AddToCartForm(FlaskForm):
    offering_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField(_l("Quantity"), default=1, validators=[
        InputRequired(_l("Give a quantity.")),
        NumberRange(min=MIN_QUANTITY, max=MAX_QUANTITY, message=_l("From %(min)s to %(max)s."))])
    next = HiddenField()


class CartLineForm(FlaskForm):
    quantity = IntegerField(_l("Quantity"), validators=[
        InputRequired(_l("Give a quantity.")),
        NumberRange(min=0, max=MAX_QUANTITY, message=_l("From 0 to %(max)s (0 removes the line)."))])


class CheckoutForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give your name.")), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Give your e-mail address.")), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    phone = TelField(_l("Phone (optional)"), validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "tel"})
    address = StringField(_l("Street address where the service is done"), validators=[Optional(), Length(max=300)],
                          render_kw={"autocomplete": "street-address"})
    postal_code = StringField(_l("Postal code"), validators=[DataRequired(_l("Give your postal code.")), POSTAL],
                              render_kw={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 5})
    for_client = SelectField(_l("Who is the service for"), validate_choice=False, default="")
    desired_date = DateField(_l("Desired date (optional)"), validators=[Optional()])
    desired_time = StringField(_l("Desired time of day (optional)"), validators=[Optional(), Length(max=100)])
    message = TextAreaField(_l("Message to the provider (optional)"), validators=[Optional(), Length(max=2000)])
    payment = RadioField(_l("Payment"), choices=[C("card", _l("Card")), C("invoice", _l("Invoice"))],
                         validators=[InputRequired(_l("Choose how you pay."))])
    expected_total_cents = HiddenField()
    submission = HiddenField()

    def validate_desired_date(self, field):
        if field.data and field.data < local_today():
            raise ValidationError(_l("The date is in the past."))


class ConfirmTimeForm(FlaskForm):
    confirmed_time = StringField(_l("Confirmed time"), validators=[DataRequired(_l("Give the time.")), Length(max=200)])


class NoteForm(FlaskForm):
    """A button with an optional note (fulfil, cancel, mark paid)."""

    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])


class RefundForm(FlaskForm):
    amount = EuroField(_l("Amount to refund (€)"), validators=[InputRequired(_l("Give the amount."))],
                       render_kw={"inputmode": "decimal"})
    reason = TextAreaField(_l("Reason (shown to the buyer)"), validators=[Optional(), Length(max=2000)])
    refunded_before = HiddenField()


class OfferingForm(FlaskForm):
    service_type_id = SelectField(_l("Service"), coerce=int, validate_choice=False)
    unit = SelectField(_l("Price per"), choices=[C("hour", _l("hour")), C("visit", _l("visit")), C("item", _l("item"))])
    price = EuroField(_l("Price incl. VAT (€)"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    vat_rate_bp = SelectField(_l("VAT rate"), coerce=int, validate_choice=False)
    postal_codes = TextAreaField(_l("Postal codes you serve"), validators=[DataRequired(_l("Give at least one postal code."))])
    languages = StringField(_l("Languages of service"), validators=[DataRequired(_l("Give at least one language."))],
                            default="fi")
    self_paid = BooleanField(_l("Sold to self-paying buyers in the shop"))
    household_deduction = BooleanField(_l("Qualifies for the household tax deduction (kotitalousvähennys)"))
    labour_share_percent = IntegerField(_l("Share of the price that is work (%)"), default=100, validators=[
        InputRequired(), NumberRange(min=0, max=100, message=_l("From 0 to 100."))])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])


class CategoryForm(FlaskForm):
    slug = StringField(_l("Identifier (slug)"), validators=[DataRequired(), Length(max=60)])
    name_fi = StringField(_l("Name in Finnish"), validators=[DataRequired(), Length(max=120)])
    name_sv = StringField(_l("Name in Swedish"), validators=[Optional(), Length(max=120)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=120)])
    position = IntegerField(_l("Position in lists"), default=0, validators=[Optional(), NumberRange(min=0, max=10000)])


class ServiceTypeForm(FlaskForm):
    category_id = SelectField(_l("Category"), coerce=int, validate_choice=False)
    slug = StringField(_l("Identifier (slug)"), validators=[DataRequired(), Length(max=60)])
    name_fi = StringField(_l("Name in Finnish"), validators=[DataRequired(), Length(max=160)])
    name_sv = StringField(_l("Name in Swedish"), validators=[Optional(), Length(max=160)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=160)])
    description_fi = TextAreaField(_l("Description (Finnish)"), validators=[Optional(), Length(max=4000)])
    default_unit = SelectField(_l("Usual unit"), choices=[C("hour", _l("hour")), C("visit", _l("visit")), C("item", _l("item"))])
    self_paid_allowed = BooleanField(_l("May be sold to self-paying buyers"), default=True)
    needs_soteri = BooleanField(_l("Social or health care service (needs Soteri registration)"))


class ActiveForm(FlaskForm):
    """Deactivate / reactivate button."""

    active = HiddenField()
