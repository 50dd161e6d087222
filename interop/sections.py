"""The provider dashboard's part: endpoints switched off after failing deliveries."""

from __future__ import annotations

from interop.webhooks import disabled_endpoints


def provider_section(user) -> dict:
    if user.provider_id is None:
        return {"disabled_webhooks": []}
    return {"disabled_webhooks": disabled_endpoints(user.provider_id)}
