"""Migration ``shopcodes1`` turns the sentences stored on purchases' histories into
message codes and back: rows as older versions wrote them (English, Finnish and
Swedish sentences, the demo's, a refund with its reason, what a person wrote, an
unknown sentence) are upgraded and downgraded in a database of their own, with
``flask db`` as an operator runs it."""

import json

import pytest
import sqlalchemy as sa

from tests.integration.core.test_codes_migration import _flask_db, scratch_database

NBSP = "\u00a0"


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database for this test only."""
    yield from scratch_database(tmp_path, "shopcodes1")


# (written by a person?, note as stored before shopcodes1, expected code, params, note after)
OLD_ROWS = [
    (False, "Card payment received.", "shop.card_paid", {}, None),
    (True, "Lasku maksettu.", "shop.invoice_paid", {}, None),
    (True, "Ennakkolasku maksettu.", "shop.invoice_paid", {}, None),
    (False, "Betalningstiden gick ut och köpet släpptes.", "shop.payment_expired", {}, None),
    (True, "Aika vahvistettu: ti 12.5. klo 9–11", "shop.time_confirmed", {"time": "ti 12.5. klo 9–11"}, None),
    (True, "Refunded €1,234.50. The visit was cancelled by the provider.", "shop.refunded", {"amount": 123450},
     "The visit was cancelled by the provider."),
    (True, f"Hyvitetty 90,00{NBSP}€. Peruttu.", "shop.cancelled_refunded", {"amount": 9000}, None),
    (False, f"Återbetalat via betaltjänsten. Sammanlagt återbetalat 45,00{NBSP}€.", "shop.refunded_by_service",
     {"amount": 4500}, None),
    (False, ("The price of Siivous has risen from €45.00 to €50.00 since it was shown to you. "
             "This order keeps the price shown, €45.00."), "shop.price_rose",
     {"service": "Siivous", "old": 4500, "new": 5000}, None),
    (True, "Tehty; lasku lähetetty.", None, None, "Tehty; lasku lähetetty."),   # a person's delivery note
    (False, "something an older version wrote", "legacy_text", {"text": "something an older version wrote"}, None),
]

# What the downgrade writes back: the English sentence (a person's words after it).
DOWNGRADED = [
    "Card payment received.", "Invoice paid.", "Invoice paid.",
    "The payment time ran out; the purchase was released.", "Time confirmed: ti 12.5. klo 9–11",
    "Refunded €1,234.50. The visit was cancelled by the provider.", "Refunded €90.00. Cancelled.",
    "Refunded through the payment service; €45.00 refunded in all.",
    ("The price of Siivous has risen from €45.00 to €50.00 since it was shown to you. "
     "This order keeps the price shown, €45.00."),
    "Tehty; lasku lähetetty.", "something an older version wrote",
]


def test_shopcodes1_upgrades_and_downgrades_sample_rows(app, scratch_url, redis_url):
    from app import create_app
    from core.extensions import db
    from tests import factories as f

    _flask_db(scratch_url, "upgrade")
    other = create_app({"DATABASE_URL": scratch_url, "REDIS_URL": redis_url, "TESTING": True})
    with other.app_context():
        order = f.ShopOrderFactory()
        seller = f.UserFactory(role="provider", provider=order.provider)
        db.session.commit()
        ids = {"order": order.id, "seller": seller.id}
        db.session.remove()
        db.engine.dispose()
    _flask_db(scratch_url, "downgrade", "codes1")

    engine = sa.create_engine(scratch_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            for by_person, note, *_rest in OLD_ROWS:
                conn.execute(sa.text("INSERT INTO shop_order_events (shop_order_id, at, actor_id, from_status, "
                                     "to_status, note) VALUES (:o, CURRENT_TIMESTAMP, :a, 'pending_payment', "
                                     "'paid', :n)"), {"o": ids["order"], "a": ids["seller"] if by_person else None,
                                                      "n": note})

        _flask_db(scratch_url, "upgrade", "shopcodes1")
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT code, params, note FROM shop_order_events ORDER BY id")).all()

        def as_dict(value):
            return json.loads(value) if isinstance(value, str) else value

        assert [(c, as_dict(p), n) for c, p, n in rows] == [(c, p, n) for _b, _o, c, p, n in OLD_ROWS]

        _flask_db(scratch_url, "downgrade", "codes1")
        with engine.connect() as conn:
            notes = conn.execute(sa.text("SELECT note FROM shop_order_events ORDER BY id")).scalars().all()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("shop_order_events")}
        assert notes == DOWNGRADED
        assert "code" not in columns and "params" not in columns
    finally:
        engine.dispose()
