"""Template helpers of the provider pages: labels for kinds, documents, decisions,
members' roles, weekdays and language codes (registered as Jinja globals)."""

from __future__ import annotations


def kind_label(kind: str) -> str:
    from providers.services import KIND_LABELS

    return str(KIND_LABELS.get(kind, kind))


def attachment_label(kind: str) -> str:
    from providers.services import ATTACHMENT_LABELS

    return str(ATTACHMENT_LABELS.get(kind, kind))


def decision_label(decision: str) -> str:
    from providers.services import DECISION_LABELS

    return str(DECISION_LABELS.get(decision, decision))


def provider_role_label(role: str | None) -> str:
    from providers.services import PROVIDER_ROLE_LABELS

    return str(PROVIDER_ROLE_LABELS.get(role, role or ""))


def weekday_label(day: int) -> str:
    from providers.services import WEEKDAYS

    return str(WEEKDAYS[day]) if isinstance(day, int) and 0 <= day <= 6 else str(day)


def language_list(codes) -> str:
    from providers.services import LANGUAGES

    return ", ".join(str(LANGUAGES.get(c, c)) for c in codes or [])


def provider_status_label(status: str) -> str:
    """An organisation's status; "pending" means waiting for the administrator's
    decision (the shared label speaks of offers waiting for an answer)."""
    from flask_babel import lazy_gettext as _l

    from core.templating import status_label

    if status == "pending":
        return str(_l("Waiting for a decision"))
    return status_label(status)


def init_templating(app) -> None:
    for fn in (provider_status_label, kind_label, attachment_label, decision_label, provider_role_label, weekday_label, language_list):
        app.add_template_global(fn)
