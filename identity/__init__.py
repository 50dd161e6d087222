"""Strong identification of clients and relatives (Suomi.fi-style) over OpenID
Connect: the login button and its callback, the page for a person with no login,
RP-initiated logout, the password-login fallback setting, and the keyed hashes of
relatives' identity codes. ``identity.local_provider`` is a local OpenID provider
for tests and the demo. See docs/identity.md."""

from flask import Blueprint

bp = Blueprint("identity", __name__)


def init_app(app) -> None:
    from identity import views  # noqa: F401  (routes)
    from identity.oidc import init_oidc
    from identity.cli import identity_cli

    app.register_blueprint(bp)
    init_oidc(app)
    app.cli.add_command(identity_cli)
