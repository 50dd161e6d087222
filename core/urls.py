"""Absolute URLs, in a request (from the request's host) and in jobs (from BASE_URL)."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def absolute_url(endpoint: str, **values) -> str:
    """``url_for(endpoint, _external=True)``, also outside a request (e-mails sent by
    jobs), where the address comes from the BASE_URL setting."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for(endpoint, _external=True, **values)
