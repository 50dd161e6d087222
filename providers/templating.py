"""Template helpers of the provider pages: labels for kinds, documents, decisions,
members' roles, weekdays and language codes (registered as Jinja globals)."""

from __future__ import annotations

from core.templating import labeller
from providers.common import (
    ATTACHMENT_LABELS,
    DECISION_LABELS,
    KIND_LABELS,
    LANGUAGES,
    PROVIDER_ROLE_LABELS,
    WEEKDAYS,
    provider_status_label,
)


kind_label = labeller(KIND_LABELS, "kind_label")
attachment_label = labeller(ATTACHMENT_LABELS, "attachment_label")
decision_label = labeller(DECISION_LABELS, "decision_label")


def provider_role_label(role: str | None) -> str:
    return str(PROVIDER_ROLE_LABELS.get(role, role or ""))


def weekday_label(day: int) -> str:
    return str(WEEKDAYS[day]) if isinstance(day, int) and 0 <= day <= 6 else str(day)


def language_list(codes) -> str:
    return ", ".join(str(LANGUAGES.get(c, c)) for c in codes or [])


def init_templating(app) -> None:
    for fn in (provider_status_label, kind_label, attachment_label, decision_label, provider_role_label,
               weekday_label, language_list):
        app.add_template_global(fn)
