"""What the system writes about a client, stored as a code and its parameters and
rendered in the reader's language when shown (follow-up titles, the reasons a
follow-up's priority was raised, the kinds of weak signals). A stored row keeps an
English ``title`` as a fallback for rows written before codes existed."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from core.templating import fmt_date

URGENCY_LABELS = {"today": _l("contact today"), "week": _l("contact within a week")}

SIGNAL_LABELS = {
    "concern": _l("concern"), "decline": _l("declined order"), "missed_visit": _l("missed visit"),
    "low_feedback": _l("low feedback"),
}

# Follow-up titles by code; the parameters are filled in when shown.
FOLLOW_UP_TEXTS = {
    "concern": _l("Concern in a visit report on order %(order)s (%(urgency)s)"),
    "concern_escalated": _l("Escalated concern on order %(order)s: the responsible worker did not acknowledge it "
                            "within %(hours)s working hours"),
    "signals": _l("Several weak signals about the client"),
}

PRIORITY_TEXTS = {
    "second_signal": _l("Priority raised: %(second)s from %(second_source)s on %(second_at)s follows "
                        "%(first)s from %(first_source)s on %(first_at)s (within %(days)s days)."),
}

SOURCE_LABELS = {"client": _l("the client's feedback")}


def _render_value(key: str, value):
    if key in ("urgency",) and value in URGENCY_LABELS:
        return str(URGENCY_LABELS[value])
    if key in ("first", "second") and value in SIGNAL_LABELS:
        return str(SIGNAL_LABELS[value])
    if key.endswith("_source") and value in SOURCE_LABELS:
        return str(SOURCE_LABELS[value])
    if key.endswith("_at") and isinstance(value, str):
        try:
            return fmt_date(date.fromisoformat(value[:10]))
        except ValueError:
            return value
    if isinstance(value, (date, datetime)):
        return fmt_date(value)
    return value


def render(texts: dict, code: str | None, params: dict | None, fallback: str = "") -> str:
    """The text of ``code`` in the current language with its parameters rendered;
    ``fallback`` for an unknown code."""
    if not code or code not in texts:
        return fallback
    values = {k: _render_value(k, v) for k, v in (params or {}).items()}
    try:
        return str(texts[code]) % values
    except (KeyError, TypeError, ValueError):
        return fallback or str(texts[code])


def follow_up_title(follow_up) -> str:
    return render(FOLLOW_UP_TEXTS, follow_up.code, follow_up.params, follow_up.title)


def priority_reason(follow_up) -> str:
    return render(PRIORITY_TEXTS, follow_up.priority_code, follow_up.priority_params)


def urgency_label(urgency: str) -> str:
    return str(URGENCY_LABELS.get(urgency, urgency))


def signal_label(kind: str) -> str:
    return str(SIGNAL_LABELS.get(kind, kind))
