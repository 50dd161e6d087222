"""`flask users create` exactly as API.md describes it."""

import pytest
import sqlalchemy as sa

from accounts.models import User
from tests import factories as f

pytestmark = pytest.mark.smoke


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_create_each_role(cli, db):
    org = f.ProviderFactory()
    person = f.ClientFactory()
    db.session.commit()
    cases = [
        ["--email", "admin@example.fi", "--role", "admin", "--name", "Ylläpitäjä"],
        ["--email", "staff@example.fi", "--role", "staff"],
        ["--email", "boss@example.fi", "--role", "manager"],
        ["--email", "org@example.fi", "--role", "provider", "--provider", str(org.id)],
        ["--email", "me@example.fi", "--role", "client", "--client", str(person.id)],
    ]
    for args in cases:
        result = cli.invoke(args=["users", "create", "--password", "long-enough-pw", *args])
        assert result.exit_code == 0, result.output
    db.session.expire_all()
    users = {u.email: u for u in db.session.scalars(sa.select(User))}
    assert users["org@example.fi"].provider_id == org.id
    assert users["org@example.fi"].provider_role == "admin"
    assert users["me@example.fi"].client_id == person.id
    assert users["admin@example.fi"].name == "Ylläpitäjä"


@pytest.mark.parametrize("args,message", [
    (["--email", "x@example.fi", "--role", "provider"], "--provider"),
    (["--email", "x@example.fi", "--role", "provider", "--provider", "9999"], "9999"),
    (["--email", "x@example.fi", "--role", "client", "--client", "9999"], "9999"),
    (["--email", "not-an-email", "--role", "staff"], "e-mail"),
    (["--email", "x@example.fi", "--role", "staff", "--provider", "1"], "provider"),
])
def test_bad_input_is_named(cli, args, message):
    result = cli.invoke(args=["users", "create", "--password", "long-enough-pw", *args])
    assert result.exit_code != 0
    assert message.lower() in result.output.lower()
    assert "Traceback" not in result.output


def test_short_password_and_duplicate(cli, db):
    result = cli.invoke(args=["users", "create", "--email", "a@example.fi", "--password", "short", "--role", "staff"])
    assert result.exit_code != 0 and "10" in result.output
    ok = cli.invoke(args=["users", "create", "--email", "a@example.fi", "--password", "long-enough-pw", "--role", "staff"])
    assert ok.exit_code == 0
    again = cli.invoke(args=["users", "create", "--email", "A@example.fi", "--password", "long-enough-pw", "--role", "staff"])
    assert again.exit_code != 0 and "already exists" in again.output
