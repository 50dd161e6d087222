"""One-time feedback links: creation by the order and shop engineers' calls,
unguessable tokens stored only hashed, idempotence, expiry, and the URL staff see."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from feedback import services
from feedback.models import FeedbackLink
from tests import factories as f

pytestmark = pytest.mark.smoke


def test_link_has_a_long_random_token_stored_only_as_its_hash(app, db, order):
    _link, token = services.issue_feedback_link(order_id=order.id, language="sv")
    db.session.commit()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert len(base64.urlsafe_b64decode(token + "=")) * 8 >= 128
    row = db.session.execute(sa.text("SELECT * FROM feedback_links")).mappings().one()
    assert token not in " ".join(str(v) for v in row.values())
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert row["provider_id"] == order.provider_id and row["client_id"] == order.client_id
    assert row["language"] == "sv" and row["used_at"] is None
    assert len(row["nonce"]) == 32


def test_links_expire_after_the_configured_days(app, db, order):
    link, _ = services.issue_feedback_link(order_id=order.id)
    expected = utcnow() + timedelta(days=app.config["FEEDBACK_LINK_DAYS"])
    assert abs((link.expires_at - expected).total_seconds()) < 60
    assert app.config["FEEDBACK_LINK_DAYS"] == 30


def test_tokens_differ_between_links(app, db, make_order):
    tokens = {services.issue_feedback_link(order_id=make_order().id)[1] for _ in range(5)}
    assert len(tokens) == 5


def test_issuing_again_returns_the_same_link_and_token(app, db, order):
    first, token = services.issue_feedback_link(order_id=order.id)
    db.session.commit()
    again, token_again = services.issue_feedback_link(order_id=order.id)
    assert again.id == first.id and token_again == token
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackLink)) == 1


def test_exactly_one_subject(app, db, order):
    with pytest.raises(ValueError):
        services.issue_feedback_link()
    with pytest.raises(ValueError):
        services.issue_feedback_link(order_id=order.id, shop_order_id=1)


def test_unknown_order_and_order_without_provider_are_refused(app, db, make_order):
    from core.errors import ConflictError, NotFoundError

    with pytest.raises(NotFoundError):
        services.issue_feedback_link(order_id=999999)
    with pytest.raises(ConflictError):
        services.issue_feedback_link(order_id=make_order(provider=None).id)


def test_shop_purchase_gets_a_link_too(app, db, client):
    shop = f.ShopOrderFactory(status="fulfilled")
    f.ShopOrderItemFactory(shop_order=shop, description="Ikkunanpesu 2 h")
    link, token = services.issue_feedback_link(shop_order_id=shop.id, language="en")
    db.session.commit()
    assert link.provider_id == shop.provider_id and link.order_id is None
    body = client.get(f"/api/v1/feedback/{token}").get_json()
    assert body["order"] == {"number": shop.number, "service": "Ikkunanpesu 2 h", "provider": shop.provider.name}
    assert services.feedback_url_for_shop_order(shop.id).endswith(f"/feedback/{token}")


def test_staff_url_is_absolute_and_ends_in_the_token(app, db, order, client):
    assert services.feedback_url_for_order(order.id) is None
    _link, token = services.issue_feedback_link(order_id=order.id)
    db.session.commit()
    url = services.feedback_url_for_order(order.id)
    assert url == f"http://kotiapu.test/feedback/{token}"
    # The same token works on the web page and in the API.
    assert client.get(url.replace("http://kotiapu.test", "")).status_code == 200
    assert client.get(f"/api/v1/feedback/{token}").status_code == 200


def test_a_link_made_elsewhere_is_rekeyed_when_issued(app, db, order, client):
    """A link whose token this server cannot derive (demo data, a rotated
    SECRET_KEY) is given a fresh token when the order's link is asked for."""
    row = f.FeedbackLinkFactory(order_id=order.id, provider_id=order.provider_id)
    db.session.commit()
    assert services.feedback_url_for_order(order.id) is None
    link, token = services.issue_feedback_link(order_id=order.id)
    db.session.commit()
    assert link.id == row.id
    assert services.feedback_url_for_order(order.id).endswith(token)
    assert client.get(f"/feedback/{token}").status_code == 200


def test_rotating_the_secret_key_hides_the_link_from_staff_but_the_sent_link_works(app, db, order, client):
    _link, token = services.issue_feedback_link(order_id=order.id)
    db.session.commit()
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret-key-0123456789-0123456789"
    try:
        assert services.feedback_url_for_order(order.id) is None
        assert client.get(f"/api/v1/feedback/{token}").status_code == 200
    finally:
        app.config["SECRET_KEY"] = old_key
