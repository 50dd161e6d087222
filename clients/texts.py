"""What the system writes about a client, as message codes (``core.messages``)
rendered in the reader's language when shown: follow-up titles, the reasons a
follow-up's priority was raised, the kinds of weak signals, the roles of network
rows the system recorded. A follow-up stores its code without the ``follow_up.``
prefix (``FollowUp.code``, ``FollowUp.params``); its English ``title`` is kept as
the fallback of rows written before codes existed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.messages import plural_text, register, render

URGENCY_LABELS = {"today": _l("contact today"), "week": _l("contact within a week")}

SIGNAL_LABELS = {
    "concern": _l("concern"), "decline": _l("declined order"), "missed_visit": _l("missed visit"),
    "low_feedback": _l("low feedback"),
}

SOURCE_LABELS = {"client": _l("the client's feedback")}

YES_NO = {"yes": _l("yes"), "no": _l("no")}

# Follow-up titles by code; the parameters are filled in when shown.
FOLLOW_UP_TEXTS = {
    "concern": _l("Concern in a visit report on order %(order)s (%(urgency)s)"),
    "concern_escalated": _l("Escalated concern on order %(order)s: the responsible worker did not acknowledge it "
                            "within %(hours)s working hours"),
    "signals": _l("Several weak signals about the client"),
    "segment_check_independent": _l("Check-up of an independent client (every 180 days)"),
    "segment_check_guidance": _l("Check-up of a client who needs guidance (every 60 days)"),
    "segment_check_intensive": _l("Check-up of a client who needs intensive coordination (every 14 days)"),
    "retention": _l("No services for the retention period: erase the record, or keep it if still needed"),
    "erasure": _l("The client asked for their data to be erased: decide"),
    "not_received": _l("Order %(order)s: the client did not get the service"),
    "provider_suspended": _l("The provider of order %(order)s was suspended: arrange the service"),
    "feedback": _l("Feedback on %(order)s needs attention: rating %(rating)s/5, needs met: %(met)s"),
}

PRIORITY_TEXTS = {
    "second_signal": _l("Priority raised: %(second)s from %(second_source)s on %(second_at)s follows "
                        "%(first)s from %(first_source)s on %(first_at)s (within %(days)s days)."),
}

_LABELS = {"urgency": URGENCY_LABELS, "first": SIGNAL_LABELS, "second": SIGNAL_LABELS,
           "first_source": SOURCE_LABELS, "second_source": SOURCE_LABELS, "met": YES_NO}

for _code, _text in FOLLOW_UP_TEXTS.items():
    register(f"follow_up.{_code}", _text, labels=_LABELS)
for _code, _text in PRIORITY_TEXTS.items():
    register(f"follow_up_priority.{_code}", _text, labels=_LABELS)


SEGMENT_LABELS = {"independent": _l("Independent"), "guidance": _l("Needs guidance"),
                  "intensive": _l("Needs intensive coordination")}

# Notes on the record's history.
register("client.segment_changed", _l("%(from)s → %(to)s"), labels={"from": SEGMENT_LABELS, "to": SEGMENT_LABELS})
register("client.no_activity", plural_text("No activity for %(num)s day", "No activity for %(num)s days"))
register("client.handover", plural_text("%(from)s → %(to)s; %(num)s open follow-up moved",
                                        "%(from)s → %(to)s; %(num)s open follow-ups moved"))


def _service_name(service_type_id) -> str:
    from catalogue.models import ServiceType
    from core.extensions import db
    service = db.session.get(ServiceType, service_type_id) if isinstance(service_type_id, int) else None
    return service.name() if service is not None else ""


# Network rows the system (or the demo) recorded: the role and what they do.
register("network.provider", _l("Service provider"))
register("network.provider_service", plural_text("%(service)s, %(num)s visit a week",
                                                 "%(service)s, %(num)s visits a week"),
         labels={"service": _service_name})
# (no words to translate: the service's own name)
register("network.provider_service_any", "%(service)s", labels={"service": _service_name})


def network_role(member) -> str:
    """The role of a network row: the system's code in the reader's language, else
    what staff typed."""
    return render(member.code, member.params, member.role) if member.code else member.role


def network_responsibility(member) -> str:
    if not member.code:
        return member.responsibility
    params = member.params or {}
    if params.get("service") is None:
        return member.responsibility
    code = f"{member.code}_service" if isinstance(params.get("num"), int) else f"{member.code}_service_any"
    return render(code, params, member.responsibility)


def follow_up_title(follow_up) -> str:
    if not follow_up.code:
        return follow_up.title
    return render(f"follow_up.{follow_up.code}", follow_up.params, follow_up.title)


def priority_reason(follow_up) -> str:
    if not follow_up.priority_code:
        return ""
    return render(f"follow_up_priority.{follow_up.priority_code}", follow_up.priority_params)


def urgency_label(urgency: str) -> str:
    return str(URGENCY_LABELS.get(urgency, urgency))


def signal_label(kind: str) -> str:
    return str(SIGNAL_LABELS.get(kind, kind))
