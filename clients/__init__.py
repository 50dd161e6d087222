"""Clients: records, consent, coordination and the client's own portfolio."""

from flask import Blueprint

bp = Blueprint("clients", __name__, url_prefix="/clients")


def init_app(app) -> None:
    from clients import api, views  # noqa: F401  (routes)

    app.register_blueprint(bp)
