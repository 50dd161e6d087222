"""Marketplace: the service catalogue, provider offerings, the public self-paid shop
and Stripe payments."""


def init_app(app) -> None:
    from marketplace import api  # noqa: F401  (routes on api_bp)
