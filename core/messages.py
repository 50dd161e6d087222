"""Messages the system writes, stored as a code and JSON parameters and rendered
in the reader's language when shown (order timeline notes, follow-up titles, ...).

A domain registers its codes once, at import, with a lazily translated template::

    register("order.offered", plural_text("Offered to %(num)s provider (%(mode)s)",
                                          "Offered to %(num)s providers (%(mode)s)"),
             labels={"mode": OFFER_MODE_LABELS})

and a row stores only ``code="order.offered", params={"mode": "ranked", "num": 1}``.
``render(code, params)`` gives the text in the current language (``force_locale``
in jobs and e-mails). Parameters named in ``labels`` are themselves codes (a mode, an
urgency) and are shown through their own translated label; ``*_at`` and ``*_date``
parameters hold ISO dates and are shown as local dates. A row written before codes
existed keeps its sentence under ``LEGACY`` (``{"text": ...}``), shown as it is.
See docs/translations.md, "Messages the system writes".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import ngettext

LEGACY = "legacy_text"


def plural_text(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for extraction (scripts/i18n.sh has the keyword
    ``plural_text:1,2``); it is translated with ``ngettext`` when rendered."""
    return (singular, plural)


@dataclass(frozen=True)
class Message:
    code: str
    text: object                       # a lazy string, or a (singular, plural) pair
    count: str = "num"                 # the parameter that picks the plural form
    labels: dict = field(default_factory=dict)   # {param: {value: lazy label}, or a function of the value}


REGISTRY: dict[str, Message] = {}


def register(code: str, text, *, count: str = "num", labels: dict | None = None) -> Message:
    """Add ``code`` to the registry (a second registration of the same code with
    another text is a programming error)."""
    message = Message(code, text, count, labels or {})
    known = REGISTRY.get(code)
    if known is not None and known.text != text:
        raise ValueError(f"message code {code!r} registered twice")
    REGISTRY[code] = message
    return message


register(LEGACY, "%(text)s")  # a sentence written before codes existed, shown as it is


def is_known(code: str | None) -> bool:
    return bool(code) and code in REGISTRY


def _value(message: Message, key: str, value):
    labels = message.labels.get(key)
    if callable(labels):
        return labels(value)
    if labels is not None and isinstance(value, str) and value in labels:
        return str(labels[value])
    if isinstance(value, str) and (key.endswith("_at") or key.endswith("_date")):
        from core.templating import fmt_date
        try:
            return fmt_date(date.fromisoformat(value[:10]))
        except ValueError:
            return value
    if isinstance(value, (date, datetime)):
        from core.templating import fmt_date
        return fmt_date(value)
    return value


def render(code: str | None, params: dict | None = None, fallback: str = "") -> str:
    """The text of ``code`` in the current language with its parameters filled in;
    ``fallback`` when the code is unknown or its parameters do not fit."""
    message = REGISTRY.get(code or "")
    if message is None:
        return fallback
    params = dict(params or {})
    if message.code == LEGACY:
        return str(params.get("text") or fallback)
    values = {k: _value(message, k, v) for k, v in params.items()}
    try:
        if isinstance(message.text, tuple):
            singular, plural = message.text
            num = params.get(message.count)
            if not isinstance(num, int):
                return fallback
            values.pop("num", None)
            return ngettext(singular, plural, num, **values)
        return str(message.text) % values
    except (KeyError, TypeError, ValueError):
        return fallback


def render_english(code: str | None, params: dict | None = None, fallback: str = "") -> str:
    """The English text (for logs and the API's ``note`` fields, which stay English)."""
    from flask_babel import force_locale
    with force_locale("en"):
        return render(code, params, fallback)


def init_messages(app) -> None:
    app.add_template_global(render, "message_text")
