"""Migration ``codes1`` turns the sentences the system stored into message codes
and back: sample rows written before it (the old schema, the old English and
demo-Finnish sentences, what people wrote) are upgraded and downgraded in a
database of their own, with ``flask db`` as an operator runs it."""

import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from tests.conftest import IS_POSTGRES, ROOT, TEST_DATABASE_URL


def _flask_db(url: str, *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", *args], cwd=ROOT,
                            env=dict(os.environ, DATABASE_URL=url), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def scratch_database(tmp_path, label: str):
    """Yields the URL of an empty database for one test (PostgreSQL when the tests run
    on it, named after ``label``), dropped afterwards."""
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path / (label + '.sqlite3')}"
        return
    import psycopg

    parts = urlsplit(TEST_DATABASE_URL)
    name = f"{parts.path.lstrip('/')}_{label}"
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(parts._replace(path="/" + name))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database for this test only."""
    yield from scratch_database(tmp_path, "codes1")


OLD_ORDER_NOTES = [  # (action, note written before codes1)
    ("create", "ranked: offered to 1 provider(s)"),
    ("reoffer", "broadcast: offered to 3 provider(s)"),
    ("start", "first visit reported"),
    ("visit", "visit missed with a concern"),
    ("expire", "no answer by the deadline"),
    ("escalate", "every provider declined or did not answer in time"),
    ("withdraw", "provider suspended"),
    ("cancel", "Asiakas muutti palvelutaloon"),  # a person's reason
    ("offer", "something an older version wrote"),  # no pattern knows it
]


def test_codes1_upgrades_and_downgrades_sample_rows(app, scratch_url, redis_url):
    from alembic.script import ScriptDirectory

    from app import create_app
    from core.extensions import db
    from tests import factories as f

    config = app.extensions["migrate"].migrate.get_config()
    before = ScriptDirectory.from_config(config).get_revision("codes1").down_revision
    # The rows the events hang on, written by today's models, then the schema as it
    # was before codes1 and the rows an older version wrote.
    _flask_db(scratch_url, "upgrade")
    other = create_app({"DATABASE_URL": scratch_url, "REDIS_URL": redis_url, "TESTING": True})
    with other.app_context():
        order = f.ServiceOrderFactory()
        staff = f.UserFactory(role="staff", name="Sanna Ohjaaja")
        provider = f.ProviderFactory()
        db.session.commit()
        ids = {"order": order.id, "client": order.client_id, "staff": staff.id, "provider": provider.id}
        db.session.remove()
        db.engine.dispose()
    _flask_db(scratch_url, "downgrade", before)

    engine = sa.create_engine(scratch_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            for action, note in OLD_ORDER_NOTES:
                conn.execute(sa.text("INSERT INTO order_events (order_id, at, action, note) "
                                     "VALUES (:o, CURRENT_TIMESTAMP, :a, :n)"), {"o": ids["order"], "a": action, "n": note})
            for action, note in (("segment_changed", "guidance → intensive"),
                                 ("retention_flagged", "no activity for 730 days"),
                                 ("handover", "Sanna Ohjaaja → Mikko Ohjaaja; 2 open follow-up(s) moved"),
                                 ("consent_withdrawn", "asked by phone")):
                conn.execute(sa.text("INSERT INTO client_events (client_id, at, action, note) "
                                     "VALUES (:c, CURRENT_TIMESTAMP, :a, :n)"), {"c": ids["client"], "a": action, "n": note})
            for kind, title in (("segment_check", "Tehostetun asiakkaan tilannekatsaus"),
                                ("other", "Order SO-2026-000007: the client did not get the service"),
                                ("feedback", "Respons på SO-2026-000008 kräver uppmärksamhet: betyg 2/5, "
                                             "behoven uppfylldes: nej"),
                                ("other", "Soita omaiselle")):
                conn.execute(sa.text("INSERT INTO follow_ups (client_id, kind, title, created_at, priority) "
                                     "VALUES (:c, :k, :t, CURRENT_TIMESTAMP, 0)"), {"c": ids["client"], "k": kind, "t": title})
            conn.execute(sa.text("INSERT INTO network_members (client_id, name, organisation, role, responsibility, "
                                 "provider_id, created_at) VALUES (:c, 'Palvelu Oy', 'Palvelu Oy', 'Palveluntuottaja', "
                                 "'Kotihoito, 2 krt/vko', :p, CURRENT_TIMESTAMP)"), {"c": ids["client"], "p": ids["provider"]})

        _flask_db(scratch_url, "upgrade", "codes1")
        with engine.connect() as conn:
            events = conn.execute(sa.text("SELECT action, code, params, note FROM order_events ORDER BY id")).all()
            client_events = conn.execute(sa.text("SELECT action, code, params, note FROM client_events ORDER BY id")).all()
            follow_ups = conn.execute(sa.text("SELECT code, params, title FROM follow_ups ORDER BY id")).all()
            member = conn.execute(sa.text("SELECT code, role, responsibility FROM network_members")).one()

        def as_dict(value):
            import json
            return json.loads(value) if isinstance(value, str) else value

        assert [(a, c, as_dict(p), n) for a, c, p, n in events] == [
            ("create", "order.offered", {"mode": "ranked", "num": 1}, None),
            ("reoffer", "order.offered", {"mode": "broadcast", "num": 3}, None),
            ("start", "order.first_visit", {}, None),
            ("visit", "order.visit_missed_concern", {}, None),
            ("expire", "offer.expired", {}, None),
            ("escalate", "order.no_provider_left", {}, None),
            ("withdraw", "offer.provider_suspended", {}, None),
            ("cancel", None, None, "Asiakas muutti palvelutaloon"),
            ("offer", "legacy_text", {"text": "something an older version wrote"}, None),
        ]
        assert [(a, c, as_dict(p), n) for a, c, p, n in client_events] == [
            ("segment_changed", "client.segment_changed", {"from": "guidance", "to": "intensive"}, None),
            ("retention_flagged", "client.no_activity", {"num": 730}, None),
            ("handover", "client.handover", {"from": "Sanna Ohjaaja", "to": "Mikko Ohjaaja", "num": 2}, None),
            ("consent_withdrawn", None, None, "asked by phone"),
        ]
        assert [(c, as_dict(p)) for c, p, _t in follow_ups] == [
            ("segment_check_intensive", {}),
            ("not_received", {"order": "SO-2026-000007"}),
            ("feedback", {"order": "SO-2026-000008", "rating": 2, "met": "no"}),
            ("legacy_text", {"text": "Soita omaiselle"}),
        ]
        assert member == ("network.provider", "Palveluntuottaja", "Kotihoito, 2 krt/vko")

        _flask_db(scratch_url, "downgrade", before)
        with engine.connect() as conn:
            notes = conn.execute(sa.text("SELECT action, note FROM order_events ORDER BY id")).all()
            client_notes = conn.execute(sa.text("SELECT note FROM client_events ORDER BY id")).scalars().all()
            titles = conn.execute(sa.text("SELECT title FROM follow_ups ORDER BY id")).scalars().all()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("order_events")}
        assert notes == OLD_ORDER_NOTES
        assert client_notes == ["guidance → intensive", "no activity for 730 days",
                                "Sanna Ohjaaja → Mikko Ohjaaja; 2 open follow-up(s) moved", "asked by phone"]
        assert titles[0] == "Tehostetun asiakkaan tilannekatsaus" and titles[3] == "Soita omaiselle"
        assert "code" not in columns and "params" not in columns
    finally:
        engine.dispose()
