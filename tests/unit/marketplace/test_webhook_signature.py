"""Webhook verification exactly as Stripe signs: the test double's ``sign`` against
``billing.parse_webhook``, and that no other module imports stripe."""

import json
import pathlib
import re
import time

import pytest
from flask import Flask

from marketplace import billing
from tests.stripe_double import decode_form, event, sign

SECRET = "whsec_unit"


@pytest.fixture
def app():
    app = Flask(__name__)
    app.config.update(STRIPE_WEBHOOK_SECRET=SECRET)
    with app.app_context():
        yield app


def test_valid_signature_returns_the_event(app):
    payload = event("checkout.session.completed", {"id": "cs_1", "object": "checkout.session"}, event_id="evt_1")
    body, header = sign(payload, SECRET)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    parsed = billing.parse_webhook(body, header)
    assert parsed["id"] == "evt_1" and parsed["data"]["object"]["id"] == "cs_1"


@pytest.mark.parametrize("mutate", [
    lambda body, header: (body + b" ", header),                                   # body changed
    lambda body, header: (body, header.replace("v1=", "v1=0")),                  # signature changed
    lambda body, header: (body, None),                                            # no header
    lambda body, header: (body, "t=abc"),
    lambda body, header: sign(json.loads(body), "whsec_other"),                  # another secret
    lambda body, header: sign(json.loads(body), SECRET, int(time.time()) - 301),  # too old
    lambda body, header: (b"\xff\xfe", header),
])
def test_anything_else_is_refused(app, mutate):
    body, header = sign(event("x.y", {"id": "o"}), SECRET)
    body, header = mutate(body, header)
    with pytest.raises(billing.SignatureError):
        billing.parse_webhook(body, header)


def test_signed_non_event_is_refused(app):
    body, header = sign({"hello": "world"}, SECRET)
    with pytest.raises(billing.SignatureError):
        billing.parse_webhook(body, header)


def test_no_secret_configured_refuses_everything(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = ""
    body, header = sign(event("x.y", {"id": "o"}), SECRET)
    with pytest.raises(billing.SignatureError):
        billing.parse_webhook(body, header)


def test_form_decoding_of_the_double():
    params = decode_form([("line_items[0][price_data][unit_amount]", "4500"), ("line_items[0][quantity]", "2"),
                          ("line_items[1][quantity]", "1"), ("metadata[shop_order_id]", "5"), ("mode", "payment")])
    assert params == {"line_items": [{"price_data": {"unit_amount": "4500"}, "quantity": "2"}, {"quantity": "1"}],
                      "metadata": {"shop_order_id": "5"}, "mode": "payment"}


def test_only_billing_imports_stripe():
    root = pathlib.Path(__file__).resolve().parents[3]
    offenders = []
    for path in root.rglob("*.py"):
        if any(part in (".venv", "tests", "node_modules") for part in path.relative_to(root).parts):
            continue
        if re.search(r"^\s*(import stripe|from stripe\b)", path.read_text(errors="ignore"), re.MULTILINE):
            offenders.append(str(path.relative_to(root)))
    assert offenders == ["marketplace/billing.py"]
