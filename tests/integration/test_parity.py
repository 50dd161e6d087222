"""Web and API parity: every field a web form can set, the API can set through the
same service (issue 12, point 7). For each pair of a form and the API operation that
does the same thing, the test compares the form's fields with the properties of the
operation's request body in the served OpenAPI document, and fails on a difference
that is not declared below with its reason. A new form field without its API twin
therefore fails here until the API takes it (or the difference is declared)."""

from __future__ import annotations

import importlib

import pytest

# form -> (path, method) of the API operation that does the same thing
PAIRS = {
    "orders.forms:OrderForm": ("/orders", "post"),
    "orders.forms:DeclineForm": ("/orders/{order_id}/decline", "post"),
    "orders.forms:VisitForm": ("/orders/{order_id}/visits", "post"),
    "orders.forms:CloseForm": ("/orders/{order_id}/close", "post"),
    "orders.forms:CompleteForm": ("/orders/{order_id}/complete", "post"),
    "orders.forms:CancelForm": ("/orders/{order_id}/cancel", "post"),
    "orders.forms:ReofferForm": ("/orders/{order_id}/reoffer", "post"),
    # providers.forms: ApplicationForm and ProfileForm against POST /providers are
    # compared, with their own declarations, in tests/integration/providers/test_parity.py.
    "marketplace.forms:OfferingForm": ("/offerings", "post"),
    "marketplace.forms:CheckoutForm": ("/shop/checkout", "post"),
    "clients.forms:ClientForm": ("/clients", "post"),
    "staffing.forms:RequestForm": ("/staffing-requests", "post"),
    "staffing.forms:OfferForm": ("/staffing-requests/{id}/offers", "post"),
    "staffing.forms:HoursForm": ("/staffing-requests/{id}/offers/{offer_id}/hours", "post"),
    "staffing.forms:CoverageForm": ("/staffing-coverage", "post"),
    "staffing.forms:ReopenForm": ("/staffing-requests/{id}/reopen", "post"),
    "feedback.forms:FeedbackForm": ("/feedback/{token}", "post"),
    "reports.forms:RequestForm": ("/reports", "post"),
    "vouchers.forms:GrantForm": ("/vouchers", "post"),
    "vouchers.forms:CloseForm": ("/vouchers/{id}/close", "post"),
    "vouchers.forms:EventForm": ("/orders/{id}/service-events", "post"),
    "vouchers.forms:RefuseForm": ("/service-events/{id}/refuse", "post"),
    "vouchers.forms:CorrectForm": ("/service-events/{id}/correct", "post"),
    "vouchers.forms:SettleForm": ("/settlements", "post"),
    "frontdoor.forms:HelpRequestForm": ("/help-requests", "post"),
}

# (form, name) -> why the name is on one side only. "form:" names exist only in the
# form, "api:" names only in the API body.
DECLARED = {
    ("orders.forms:OrderForm", "api:client_id"): "the web form is reached from the client's page (?client_id=)",
    ("marketplace.forms:OfferingForm", "form:price"): "the form takes euros as typed text; the API takes price_cents",
    ("marketplace.forms:OfferingForm", "api:price_cents"): "the same price in cents",
    ("marketplace.forms:OfferingForm", "form:vat_rate_bp"): "the form's VAT choice in basis points; the API takes vat_rate",
    ("marketplace.forms:OfferingForm", "api:vat_rate"): "the same VAT rate",
    ("marketplace.forms:CheckoutForm", "form:name"): "the buyer's details, nested as `buyer` in the API",
    ("marketplace.forms:CheckoutForm", "form:email"): "in `buyer`",
    ("marketplace.forms:CheckoutForm", "form:phone"): "in `buyer`",
    ("marketplace.forms:CheckoutForm", "form:address"): "in `buyer`",
    ("marketplace.forms:CheckoutForm", "form:postal_code"): "in `buyer`",
    ("marketplace.forms:CheckoutForm", "form:desired_date"): "in `buyer`",
    ("marketplace.forms:CheckoutForm", "api:buyer"): "the form's buyer fields",
    ("marketplace.forms:CheckoutForm", "form:for_client"): "a relative's choice of client; the API's client_id",
    ("marketplace.forms:CheckoutForm", "api:client_id"): "the form's for_client",
    ("marketplace.forms:CheckoutForm", "api:items"): "the web cart is kept in the session",
    ("marketplace.forms:CheckoutForm", "api:expected_total_cents"): "the web page shows the total before the button",
    ("marketplace.forms:CheckoutForm", "api:language"): "the web page's language is the session's",
    ("staffing.forms:OfferForm", "form:hourly_rate"): "euros as typed; the API takes hourly_rate_cents",
    ("staffing.forms:OfferForm", "api:hourly_rate_cents"): "the same rate in cents",
    ("staffing.forms:HoursForm", "form:hours"): "hours as typed (e.g. 7,5); the API takes minutes_worked",
    ("staffing.forms:HoursForm", "api:minutes_worked"): "the same time in minutes",
    ("orders.forms:VisitForm", "form:concern_text"): "the API takes the concern's text in `note` (API.md)",
    ("reports.forms:RequestForm", "api:from"): "the form's period choice is turned into from/to",
    ("reports.forms:RequestForm", "api:to"): "as from",
    ("reports.forms:RequestForm", "api:filters"): "the form's filter fields, nested in the API",
    ("vouchers.forms:GrantForm", "api:client_id"): "the web form is reached from the client's page (?client_id=)",
    ("vouchers.forms:GrantForm", "form:value"): "euros as typed; the API takes value_cents_per_unit",
    ("vouchers.forms:GrantForm", "api:value_cents_per_unit"): "the same value in cents",
    ("frontdoor.forms:HelpRequestForm", "form:homepage"): "the honeypot: a field only robots fill in",
}

_NOT_DATA = {"CSRFTokenField", "SubmitField", "HiddenField"}


def _form_fields(spec: str) -> set[str]:
    module, name = spec.split(":")
    form = getattr(importlib.import_module(module), name)(meta={"csrf": False})
    return {f.name for f in form if f.type not in _NOT_DATA}


def _api_properties(document: dict, path: str, method: str) -> set[str]:
    operation = document["paths"][path][method]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return set(schema.get("properties", {}))


@pytest.mark.parametrize("spec", sorted(PAIRS))
def test_the_api_can_set_what_the_form_can(app, client, spec):
    document = client.get("/api/v1/openapi.json").get_json()
    path, method = PAIRS[spec]
    with app.test_request_context():
        fields = _form_fields(spec)
    properties = _api_properties(document, path, method)
    differences = {f"form:{n}" for n in fields - properties} | {f"api:{n}" for n in properties - fields}
    undeclared = sorted(differences - {name for (s, name) in DECLARED if s == spec})
    assert undeclared == [], f"{spec} and {method.upper()} {path} differ in {undeclared}"


def test_every_declared_difference_is_still_real(app, client):
    """A declaration that no longer matches a difference is removed, so the list stays true."""
    document = client.get("/api/v1/openapi.json").get_json()
    stale = []
    for (spec, name) in DECLARED:
        path, method = PAIRS[spec]
        with app.test_request_context():
            fields = _form_fields(spec)
        properties = _api_properties(document, path, method)
        side, field = name.split(":", 1)
        real = (field in fields and field not in properties) if side == "form" else (field in properties and field not in fields)
        if not real:
            stale.append((spec, name))
    assert stale == []
