"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

pytestmark = pytest.mark.smoke


def test_models_and_migrations_do_not_drift(db):
    """Fails when a model changes without a migration (or the other way round)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], "models and migrations differ; run `flask db migrate -m '<verb noun>'`:\n" + \
        "\n".join(map(str, diff))


def test_migrations_are_at_head(db, app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate  # noqa: F401

    config = app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    current = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert len(heads) == 1 and current == heads[0]


def test_migration_files_are_named(app):
    from pathlib import Path

    versions = Path(app.root_path) / "migrations" / "versions"
    for path in versions.glob("*.py"):
        rev, _, slug = path.stem.partition("_")
        assert rev and slug and slug != "", f"unnamed migration {path.name}"


def test_access_log_is_append_only(db):
    from core.access import record_access
    from tests.factories import ClientFactory

    client = ClientFactory()
    record_access(client.id, "view", "client guidance", what="contact details", actor=None)
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError):
        db.session.execute(sa.text("UPDATE access_log SET purpose = 'nothing'"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError):
        db.session.execute(sa.text("DELETE FROM access_log"))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.text("SELECT purpose FROM access_log")) == "client guidance"
