"""Decisions on an organisation: an administrator approves, rejects or asks for more
information about an application, suspends and reinstates an approved provider; the
organisation sends its application back for review. Each move goes through the
provider state machine (``providers.lifecycle``) and is told by e-mail."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale

from accounts.models import ProviderRole, User
from core.db import utcnow
from core.errors import ValidationFailed
from core.extensions import db
from core.mail import queue_email
from core.urls import absolute_url
from orders.services import handle_provider_suspension
from providers import policy
from providers.common import (
    ATTACHMENT_LABELS,
    _,
    _active_user_with_email,
    _clean_reasons,
    _provider,
    provider_language,
    requested_services,
    tell_platform_admins,
)
from providers.documents import missing_documents
from providers.lifecycle import PROVIDER_MACHINE, move
from providers.members import _new_invitation
from providers.models import Provider, ProviderAction, ProviderDecision, ProviderInvitation


def _transition(provider_id: int, action: ProviderAction, actor, reasons: str = "") -> ProviderDecision:
    """Apply one action of ``PROVIDER_TRANSITIONS`` to the provider as read now and
    record it (see ``providers.lifecycle.move``)."""
    return move(_provider(provider_id), action, actor, reasons)


def decide_application(provider_id: int, action: str, reasons: str | None, actor) -> ProviderDecision:
    """An administrator approves an application, rejects it with written reasons, or
    asks for more information (reasons say what). Records the decision and e-mails
    the applicant. Approving checks that services needing Soteri registration have
    it. Raises ValidationFailed, ConflictError (wrong state), NotFoundError."""
    policy.require_platform_admin(actor)
    if action not in (ProviderAction.APPROVE, ProviderAction.REJECT, ProviderAction.REQUEST_INFO):
        raise ValidationFailed(_("Choose a decision."), fields={"action": [_("Choose a decision.")]})
    action = ProviderAction(action)
    text = _clean_reasons(reasons, required=action != ProviderAction.APPROVE)
    provider = _provider(provider_id)
    if action == ProviderAction.APPROVE:
        missing = [t for t in requested_services(provider) if t.needs_soteri]
        if missing and not provider.soteri_registered:
            raise ValidationFailed(
                _("The organisation is not registered in Soteri, which these services need: %(names)s. Ask for "
                  "more information instead.", names=", ".join(t.name() for t in missing)),
                code="soteri_required")
    if action == ProviderAction.APPROVE and not text and PROVIDER_MACHINE.can(provider.status, action):
        missing = missing_documents(provider)
        if missing:
            names = ", ".join(str(ATTACHMENT_LABELS[k]) for k in missing)
            raise ValidationFailed(
                _("The application lacks a required document (%(names)s). State why you approve it anyway, or ask "
                  "for more information.", names=names), code="reason_required",
                fields={"reasons": [_("Required: a required document is missing (%(names)s).", names=names)]})
    decision = _transition(provider_id, action, actor, text)
    _notify_decision(provider, decision)
    if action == ProviderAction.REJECT:
        # Nobody should set up a login for an organisation that was turned down.
        db.session.execute(sa.update(ProviderInvitation).where(
            ProviderInvitation.provider_id == provider.id, ProviderInvitation.used_at.is_(None),
            ProviderInvitation.expires_at > utcnow()).values(expires_at=utcnow()))
    return decision


def approve_provider(provider_id: int, actor, reasons: str = "") -> ProviderDecision:
    """``POST /providers/{id}/approve``: see ``decide_application``."""
    return decide_application(provider_id, ProviderAction.APPROVE, reasons, actor)


def resubmit_application(provider_id: int, note: str | None, actor) -> ProviderDecision:
    """The organisation's administrator sends the application back for review after
    adding what was asked. Records it and tells the administrators."""
    policy.require_manage(actor, provider_id)
    text = _clean_reasons(note, required=False)
    decision = _transition(provider_id, ProviderAction.RESUBMIT, actor, text)
    provider = _provider(provider_id)
    tell_platform_admins(
        provider, lambda: _("Provider application updated: %(name)s", name=provider.name),
        lambda link: _("%(name)s has answered your request for more information.\n\n%(note)s\n\n%(link)s\n",
                       name=provider.name, note=text, link=link),
        f"provider-decision-{decision.id}")
    return decision


def suspend_provider(provider_id: int, reasons: str, actor) -> ProviderDecision:
    """An administrator suspends an approved provider (written reasons required): it
    gets no new offers, its pending offers are withdrawn and its active orders are
    flagged to the guidance staff (``orders.services.handle_provider_suspension``).
    The organisation is told by e-mail."""
    policy.require_platform_admin(actor)
    text = _clean_reasons(reasons, required=True)
    decision = _transition(provider_id, ProviderAction.SUSPEND, actor, text)
    handle_provider_suspension(provider_id, actor)
    _notify_decision(_provider(provider_id), decision)
    return decision


def reinstate_provider(provider_id: int, reasons: str | None, actor) -> ProviderDecision:
    """An administrator lifts a suspension; the provider can get offers again."""
    policy.require_platform_admin(actor)
    text = _clean_reasons(reasons, required=False)
    decision = _transition(provider_id, ProviderAction.REINSTATE, actor, text)
    _notify_decision(_provider(provider_id), decision)
    return decision



def _login_link(provider: Provider) -> str:
    """Where the organisation goes next: its page, or, while it has no login yet, a
    fresh invitation to create the first one."""
    has_member = db.session.scalar(sa.select(User.id).where(User.provider_id == provider.id,
                                                            User.active.is_(True)).limit(1))
    if has_member is not None or _active_user_with_email(provider.email) is not None:
        return absolute_url("providers.organisation")
    token = _new_invitation(provider, provider.email, ProviderRole.ADMIN, None)
    return absolute_url("providers.accept_invitation", token=token)


def _notify_decision(provider: Provider, decision: ProviderDecision) -> None:
    lang = provider_language(provider)
    kind = decision.decision
    reasons = decision.reasons.strip()
    with force_locale(lang):
        link = _login_link(provider) if kind != "rejected" else None
        subjects = {
            "approved": _("%(name)s has been approved in Kotiapu", name=provider.name),
            "rejected": _("Your application to Kotiapu was not approved"),
            "info_requested": _("More information needed for your Kotiapu application"),
            "suspended": _("%(name)s has been suspended in Kotiapu", name=provider.name),
            "reinstated": _("%(name)s can again receive orders in Kotiapu", name=provider.name),
        }
        intros = {
            "approved": _("%(name)s has been approved as a service provider. Add your services and prices, and you "
                          "can receive orders from the guidance staff and sell services to clients.",
                          name=provider.name),
            "rejected": _("We are sorry: the application of %(name)s was not approved.", name=provider.name),
            "info_requested": _("To decide on the application of %(name)s we need more information. Log in, add "
                                "what is asked below and send the application back for review.",
                                name=provider.name),
            "suspended": _("%(name)s has been suspended: it gets no new orders and its open offers have been "
                           "withdrawn. The guidance staff follow up on your active orders.", name=provider.name),
            "reinstated": _("The suspension of %(name)s has been lifted: it can again receive orders.",
                            name=provider.name),
        }
        if kind not in subjects:
            return
        parts = [_("Hello,"), intros[kind]]
        if reasons:
            parts.append(_("Reasons given by the administrator:") + "\n" + reasons)
        if link:
            parts.append(link)
        queue_email(provider.email, subjects[kind], "\n\n".join(parts) + "\n", lang,
                    dedupe_key=f"provider-decision-{decision.id}")


