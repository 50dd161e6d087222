"""The service catalogue: categories and service types (kept by the admin) and the
offerings providers make of them (price, areas, languages, whether sold in the
self-paid shop). Orders, providers, the shop and reports build on it.

Layers: the catalogue imports only ``core`` and ``accounts``. Its web pages are
served by the shop (``marketplace``), whose customers browse it; its modules:
``models``, ``money`` (VAT and deduction arithmetic), ``quotes`` (signed price
quotes), ``services`` (reading), ``offerings`` (providers' offerings),
``admin`` (categories and types) and ``serializers``.
"""


def init_app(app) -> None:
    """The catalogue's API routes (on ``core.api.api_bp``); its web pages are the shop's."""
    from catalogue import api  # noqa: F401  (routes)
