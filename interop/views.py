"""The webhook pages of a provider organisation (``/organisation/webhooks``): its
endpoints, a form to add one (administrators), each endpoint's delivery log with
the "send a test event" button. Each POST is one ``form_action`` around one
service call of ``interop.webhooks``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.models import Role
from accounts.permissions import role_required
from core.actions import form_action
from core.extensions import db
from interop import bp, webhooks
from interop.forms import EVENT_LABELS, EndpointForm
from interop.models import WebhookAttempt, WebhookDelivery
from providers import policy as provider_policy
from providers.models import Provider

LOG_SIZE = 50


def _provider() -> Provider:
    provider = db.session.get(Provider, current_user.provider_id)
    if provider is None:
        abort(404)
    return provider


def _list_page(provider: Provider, form: EndpointForm | None = None, status: int = 200):
    return render_template("interop/webhooks.html", provider=provider, endpoints=webhooks.endpoints_of(provider.id),
                           form=form or EndpointForm(formdata=None), event_labels=EVENT_LABELS,
                           can_manage=provider_policy.can_manage(current_user, provider.id)), status


@bp.get("/organisation/webhooks")
@role_required(Role.PROVIDER)
def webhooks_page():
    return _list_page(_provider())


@bp.post("/organisation/webhooks")
@role_required(Role.PROVIDER)
def create():
    provider = _provider()
    if not provider_policy.can_manage(current_user, provider.id):
        abort(403)
    form = EndpointForm()
    return form_action(
        form, lambda: webhooks.create_endpoint(current_user, provider.id, form.url.data, form.events.data,
                                               form.description.data or ""),
        success=_("The endpoint has been added. Copy its secret now: it is shown only once."),
        next_url=lambda endpoint: url_for("interop.endpoint", endpoint_id=endpoint.id),
        render=lambda status: _list_page(provider, form, status))


@bp.get("/organisation/webhooks/<int:endpoint_id>")
@role_required(Role.PROVIDER)
def endpoint(endpoint_id: int):
    endpoint = webhooks.visible_endpoint(current_user, endpoint_id)
    can_manage = provider_policy.can_manage(current_user, endpoint.provider_id)
    secret = webhooks.reveal_secret(endpoint) if can_manage else None
    deliveries = db.session.scalars(webhooks.deliveries_query(endpoint.id)
                                    .order_by(WebhookDelivery.id.desc()).limit(LOG_SIZE)).all()
    attempts: dict[int, list] = {}
    if deliveries:
        for a in db.session.scalars(sa.select(WebhookAttempt).where(
                WebhookAttempt.delivery_id.in_([d.id for d in deliveries])).order_by(WebhookAttempt.id)):
            attempts.setdefault(a.delivery_id, []).append(a)
    response = render_template("interop/endpoint.html", endpoint=endpoint, secret=secret, deliveries=deliveries,
                               attempts=attempts, can_manage=can_manage, event_labels=EVENT_LABELS,
                               log_size=LOG_SIZE)
    return response, 200, {"Cache-Control": "no-store"}


def _button(endpoint_id: int, action, success: str, next_url: str | None = None):
    return form_action(None, action, success=success,
                       next_url=next_url or url_for("interop.endpoint", endpoint_id=endpoint_id))


@bp.post("/organisation/webhooks/<int:endpoint_id>/test")
@role_required(Role.PROVIDER)
def send_test(endpoint_id: int):
    return _button(endpoint_id, lambda: webhooks.send_test_event(current_user, endpoint_id),
                   _("A test event is on its way. Reload the page in a moment to see how it went."))


@bp.post("/organisation/webhooks/<int:endpoint_id>/enable")
@role_required(Role.PROVIDER)
def enable(endpoint_id: int):
    return _button(endpoint_id, lambda: webhooks.enable_endpoint(current_user, endpoint_id),
                   _("The endpoint is on again."))


@bp.post("/organisation/webhooks/<int:endpoint_id>/delete")
@role_required(Role.PROVIDER)
def delete(endpoint_id: int):
    return _button(endpoint_id, lambda: webhooks.delete_endpoint(current_user, endpoint_id),
                   _("The endpoint has been removed."), next_url=url_for("interop.webhooks_page"))
