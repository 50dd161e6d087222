"""Shared by the route matrix: the URL of a rule with ids filled in, and the outcome
of a request as the matrix sees it."""

from __future__ import annotations

import re

MISSING_ID = 999_999


def fill(rule, ids: dict) -> str:
    def one(m):
        converter, name = m.group(1) or "default", m.group(2)
        if converter == "int":
            return str(ids.get((rule.endpoint, name), ids.get(name, MISSING_ID)))
        if name == "fmt":
            return "csv"
        if name == "filename":
            return "css/kotiapu.css"
        return "not-a-real-token-0000"
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", one, rule.rule)


def outcome(response) -> str:
    """'denied' (401, 403, 404, or sent to the login page), 'error' (5xx), else
    'reached'. (A 404 is how the platform refuses a row outside the user's scope.)"""
    if response.status_code >= 500:
        return "error"
    if response.status_code in (401, 403, 404):
        return "denied"
    if response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return "denied"
    return "reached"
