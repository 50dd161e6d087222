"""What the system writes about a client, as message codes (``core.messages``)
rendered in the reader's language when shown: follow-up titles, the reasons a
follow-up's priority was raised, the kinds of weak signals, the roles of network
rows the system recorded. A follow-up stores its code without the ``follow_up.``
prefix (``FollowUp.code``, ``FollowUp.params``); its English ``title`` is kept as
the fallback of rows written before codes existed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.messages import plural_text, register, render
from core.templating import labeller

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

# The words of the client pages' labels (templates/clients/_macros.html), looked up one
# label at a time: a macro that built the whole dict translated every label of it for
# each row it was called for (the record's history: 19 texts per event).
EVENT_LABELS = {
    "created": _l("Registered"), "details_changed": _l("Details changed"), "consent_given": _l("Consent to share given"),
    "consent_withdrawn": _l("Consent to share withdrawn"), "segment_changed": _l("Coordination need changed"),
    "non_disclosure_set": _l("Non-disclosure marking set"), "non_disclosure_removed": _l("Non-disclosure marking removed"),
    "handover": _l("Handed over to another worker"), "representative_added": _l("Relative given access"),
    "representative_ended": _l("Relative's access ended"), "mandate_changed": _l("Relative's mandate changed"),
    "mandate_revoked": _l("The client revoked a relative's mandate"), "login_given": _l("Login given to the client"),
    "checked": _l("Check-up done"), "retention_flagged": _l("Flagged for erasure (no services for the retention period)"),
    "retention_kept": _l("Kept after the retention check"), "erasure_requested": _l("Erasure asked for"),
    "erasure_declined": _l("Erasure request declined"), "erased": _l("Personal data erased"),
}
CONTACT_CHANNEL_LABELS = {"phone": _l("Phone"), "visit": _l("Visit"), "chat": _l("Chat"), "email": _l("E-mail")}
SCOPE_LABELS = {"services": _l("See services, purchases and data"), "messages": _l("Read and send messages"),
                "buy": _l("Buy self-paid services"), "feedback": _l("Give feedback on services")}
MANDATE_STATE_LABELS = {"active": _l("In force"), "upcoming": _l("Not yet in force"), "expired": _l("Expired"),
                        "ended": _l("Ended")}

# Template globals (clients.init_app); the macros of the same names call them.
segment_label = labeller(SEGMENT_LABELS, "client_segment_label")
event_label = labeller(EVENT_LABELS, "client_event_label")
contact_channel_label = labeller(CONTACT_CHANNEL_LABELS, "client_channel_label")
scope_label = labeller(SCOPE_LABELS, "mandate_scope_label")
mandate_state_label = labeller(MANDATE_STATE_LABELS, "mandate_state_label")

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
