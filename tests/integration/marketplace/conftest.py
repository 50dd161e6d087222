"""Shop fixtures: a provider selling in the shop, the Stripe test double on loopback,
and signed webhook posting."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.stripe_double import StripeDouble, event, sign

WEBHOOK_SECRET = "whsec_test_kotiapu_0123456789"


@pytest.fixture
def stripe_double():
    double = StripeDouble().start()
    yield double
    double.stop()


@pytest.fixture
def stripe_on(app, stripe_double):
    """Card payments configured, the stripe library pointed at the local double."""
    app.config.update(STRIPE_SECRET_KEY="sk_test_kotiapu", STRIPE_API_BASE=stripe_double.url,
                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, PLATFORM_FEE_PERCENT=5.0)
    return stripe_double


@pytest.fixture
def shop(db):
    """An approved company selling cleaning (household deduction, 80 % work) and window
    cleaning at 33100/33200, and an NGO selling meals at 33500."""
    cleaning_cat = f.ServiceCategoryFactory(name_fi="Kodinhoito", name_en="Home care")
    meals_cat = f.ServiceCategoryFactory(name_fi="Ateriat", name_en="Meals")
    cleaning = f.ServiceTypeFactory(category=cleaning_cat, name_fi="Siivous", name_en="Cleaning")
    windows = f.ServiceTypeFactory(category=cleaning_cat, name_fi="Ikkunanpesu", name_en="Window cleaning")
    meals = f.ServiceTypeFactory(category=meals_cat, name_fi="Ateriakuljetus", name_en="Meal delivery")
    company = f.ProviderFactory(name="Kirkas Koti Oy", kind="company", stripe_account_id="acct_ok_kirkas",
                                languages=["fi", "sv"], prepayment_register=True)
    ngo = f.ProviderFactory(name="Pirkan Ateria ry", kind="ngo", languages=["fi"])
    offering = f.OfferingFactory(provider=company, service_type=cleaning, price_cents=4500, vat_rate_bp=2550,
                                 household_deduction=True, labour_share_percent=80, languages=["fi", "sv"],
                                 postal_codes=["33100", "33200"])
    windows_offering = f.OfferingFactory(provider=company, service_type=windows, unit="visit", price_cents=8990,
                                         household_deduction=True, labour_share_percent=100,
                                         postal_codes=["33100"])
    meal_offering = f.OfferingFactory(provider=ngo, service_type=meals, unit="item", price_cents=1050,
                                      vat_rate_bp=1400, postal_codes=["33500"])
    db.session.commit()
    return {"company": company, "ngo": ngo, "offering": offering, "windows": windows_offering,
            "meals": meal_offering, "cleaning": cleaning, "cleaning_cat": cleaning_cat}


@pytest.fixture
def post_webhook(client):
    """``post_webhook(type, object, event_id=None, secret=..., timestamp=None)`` posts a
    Stripe-signed event to /stripe/webhook and returns the response."""

    def post(event_type, obj, event_id=None, secret=WEBHOOK_SECRET, timestamp=None, created=None):
        payload = event(event_type, obj, event_id=event_id, created=created)
        body, header = sign(payload, secret, timestamp)
        return client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": header,
                                                                    "Content-Type": "application/json"})

    return post


BUYER = {"name": "Matti Meikäläinen", "email": "matti@example.fi", "phone": "040 111 2222",
         "address": "Hämeenkatu 1", "postal_code": "33100"}


def checkout_body(*items, payment="invoice", **extra):
    body = {"items": [{"offering_id": o, "quantity": q} for o, q in items], "buyer": dict(BUYER), "payment": payment}
    body.update(extra)
    return body
