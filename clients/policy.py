"""Who may see a client's contact details (minimal version written by the orders
engineer until the clients package's own policy module is merged; the signature is
the agreed one)."""

from __future__ import annotations

from core.roles import Role


def shows_contact(client, user, *, serving_provider: bool = False) -> bool:
    """Address and phone of a client under the safety non-disclosure marking are
    shown only to the responsible worker, the client themselves and the provider
    serving them (an accepted or running order of its own). Without the marking,
    to everyone who may see the client."""
    if not client.non_disclosure:
        return True
    if user is None:
        return False
    own = user.role == Role.CLIENT and getattr(user, "client_id", None) == client.id
    return bool(serving_provider) or user.id == client.responsible_worker_id or own
