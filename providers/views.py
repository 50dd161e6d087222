"""Provider web pages: the public application form and profile, invitations, the
organisation's own page (profile, members, capacity, automatic acceptance,
attachments) and the administrators' list and decision pages.

Each POST: look up (404 if not visible) → permission (``providers.policy``) →
``core.actions.form_action`` (validate the form, one service call, refusals shown
on the form or flashed, redirect after success). The request's unit of work
commits; nothing here commits or rolls back."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from accounts.login import complete_login
from accounts.models import Role, User
from accounts.permissions import role_required
from core.actions import Confirmation, form_action
from core.db import utcnow
from core.errors import GoneError, NotFoundError
from core.extensions import db
from core.inputs import query_page, query_str
from catalogue.models import Offering, ServiceCategory, ServiceType
from providers import bp, decisions, documents, members, policy, profile as org_profile, registration
from providers.common import ATTACHMENT_LABELS, FILE_TYPES, _today, parse_list, requested_services
from providers.forms import (
    AcceptInvitationForm,
    ApplicationForm,
    AttachmentForm,
    CapacityForm,
    CompletionForm,
    DecisionForm,
    InviteForm,
    MemberRoleForm,
    ProfileForm,
    ReasonsForm,
    ResubmitForm,
    RuleForm,
)
from providers.models import (
    AttachmentKind,
    AutoAcceptRule,
    Provider,
    ProviderAttachment,
    ProviderCapacity,
    ProviderDecision,
    ProviderInvitation,
    ProviderStatus,
)

ADMIN_PAGE_SIZE = 50


# --------------------------------------------------------------------------- helpers


def _make_form(cls, **kwargs):
    """Build a form; an upload over MAX_UPLOAD_MB gives None (the caller answers 413
    with a friendly message instead of the bare error page)."""
    try:
        return cls(**kwargs)
    except RequestEntityTooLarge:
        return None


def _too_large_message() -> str:
    return _("The file is larger than %(mb)s MB. Choose a smaller file and send the form again; nothing was saved.",
             mb=current_app.config["MAX_UPLOAD_MB"])


def _upload(field) -> documents.Upload | None:
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    # Read one byte over the limit: enough to tell "too large" without reading more.
    return documents.Upload(storage.filename, storage.stream.read(documents.upload_limit() + 1))


def _service_types():
    return list(db.session.scalars(
        sa.select(ServiceType).join(ServiceCategory).where(ServiceType.active.is_(True))
        .order_by(ServiceCategory.position, ServiceCategory.id, ServiceType.name_fi)))


def _choices(types) -> list:
    return [SelectChoice(t.id, t.name()) for t in types]


def _grouped(types):
    groups: dict = {}
    for t in types:
        groups.setdefault(t.category.name(), []).append(t)
    return list(groups.items())


def _lang() -> str:
    return str(get_locale() or "fi")


def _no_store(response, public: bool = False):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response


# --------------------------------------------------------------------------- application


def _application_fields(form: ApplicationForm) -> dict:
    attachments = []
    for kind, expires in ((AttachmentKind.INSURANCE, form.expires_insurance.data),
                          (AttachmentKind.SELF_MONITORING_PLAN, None),
                          (AttachmentKind.CERTIFICATE, form.expires_certificate.data)):
        upload = _upload(form[f"attachment_{kind}"])
        if upload is not None:
            attachments.append(documents.NewAttachment(kind=kind, upload=upload, expires_on=expires))
    return dict(
        name=form.name.data, business_id=form.business_id.data, kind=form.kind.data, email=form.email.data,
        phone=form.phone.data, contact_person=form.contact_person.data, service_areas=parse_list(form.service_areas.data),
        languages=form.languages.data or [], service_type_ids=form.service_type_ids.data or [],
        soteri_registered=bool(form.soteri_registered.data), prepayment_register=bool(form.prepayment_register.data),
        description=form.description.data or "", website=form.website.data, attachments=attachments,
        language=_lang())


@bp.route("/providers/apply", methods=["GET", "POST"])
def apply():
    types = _service_types()
    form = _make_form(ApplicationForm)
    too_large = form is None
    if too_large:
        flash(_too_large_message(), "error")
        form = ApplicationForm(formdata=None)
    form.service_type_ids.choices = _choices(types)

    def page(status: int = 200):
        return render_template("providers/apply.html", form=form, groups=_grouped(types)), status

    if too_large:
        return page(413)
    if request.method == "POST":
        return form_action(form, lambda: registration.submit_application(**_application_fields(form)),
                           next_url=url_for("providers.application_sent"), render=page)
    return page()


@bp.get("/providers/apply/sent")
def application_sent():
    return render_template("providers/application_sent.html")


# --------------------------------------------------------------------------- invitations


def _invitation_page(token: str, form, status: int = 200):
    """The invitation's page, or why its link no longer works."""
    try:
        invitation = members.invitation_for_token(token)
    except (NotFoundError, GoneError) as exc:
        return render_template("providers/invitation_invalid.html", message=exc.message), exc.status
    provider = db.session.get(Provider, invitation.provider_id)
    return render_template("providers/invitation.html", invitation=invitation, provider=provider, form=form), status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    if current_user.is_authenticated:
        return _invitation_page(token, None)
    form = AcceptInvitationForm()
    if request.method == "POST":
        try:
            members.invitation_for_token(token)
        except (NotFoundError, GoneError):
            return _invitation_page(token, form)

        def accept():
            user = members.accept_invitation(token, form.name.data, form.password.data, language=_lang())
            complete_login(user)
            return user

        return form_action(form, accept, success=_("Welcome to Kotiapu! Your login has been created."),
                           next_url=url_for("providers.organisation"),
                           render=lambda status: _invitation_page(token, form, status))
    return _invitation_page(token, form)


# --------------------------------------------------------------------------- public profile


def _visible_provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if not policy.can_view(current_user, provider):
        abort(404)
    return provider


@bp.get("/providers/<int:provider_id>")
def profile(provider_id: int):
    provider = _visible_provider(provider_id)
    services = db.session.scalars(
        sa.select(ServiceType).where(ServiceType.id.in_(
            sa.select(Offering.service_type_id).where(Offering.provider_id == provider.id,
                                                      Offering.active.is_(True))))
        .order_by(ServiceType.name_fi)).all()
    return render_template("providers/profile.html", provider=provider, services=services,
                           paragraphs=[p for p in provider.description.split("\n\n") if p.strip()])


@bp.get("/providers/<int:provider_id>/logo")
def logo(provider_id: int):
    provider = _visible_provider(provider_id)
    if not provider.logo_path:
        abort(404)
    path = documents.stored_path(provider.logo_path)
    if not path.exists():
        abort(404)
    ext = provider.logo_path.rsplit(".", 1)[-1]
    response = send_file(path, mimetype=FILE_TYPES[ext][0], max_age=3600)
    return _no_store(response, public=provider.status == ProviderStatus.APPROVED)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment_download(attachment_id: int):
    """Only platform admins and members of the organisation; anyone else 404."""
    row = documents.get_attachment(attachment_id, current_user)
    path = documents.stored_path(row.stored_name)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=row.content_type, as_attachment=True, download_name=row.filename,
                         conditional=False, etag=False, max_age=0)
    return _no_store(response)


# --------------------------------------------------------------------------- the organisation's own page


def _own_provider() -> Provider:
    return db.get_or_404(Provider, current_user.provider_id)


def _managed_provider() -> Provider:
    """The user's organisation, which they may change (its administrators; a worker 403)."""
    provider = _own_provider()
    if not policy.can_manage(current_user, provider.id):
        abort(403)
    return provider


def _choice_types(provider_id: int, all_types=None):
    """Services for capacity and rules: those the organisation offers, else all."""
    all_types = _service_types() if all_types is None else all_types
    offered = set(db.session.scalars(sa.select(Offering.service_type_id).where(
        Offering.provider_id == provider_id, Offering.active.is_(True))))
    chosen = [t for t in all_types if t.id in offered]
    return chosen or all_types


def _rows(model, provider_id: int, *order, limit: int | None = None):
    stmt = sa.select(model).where(model.provider_id == provider_id).order_by(*order)
    return db.session.scalars(stmt.limit(limit) if limit else stmt).all()


def _active_members(provider_id: int):
    return db.session.scalars(sa.select(User).where(User.provider_id == provider_id, User.active.is_(True))
                              .order_by(User.name, User.email)).all()


def _organisation_context(provider: Provider, **forms) -> dict:
    types = _service_types()
    choice_types = _choice_types(provider.id, types)
    invitations = db.session.scalars(sa.select(ProviderInvitation).where(
        ProviderInvitation.provider_id == provider.id, ProviderInvitation.used_at.is_(None),
        ProviderInvitation.expires_at > utcnow()).order_by(ProviderInvitation.created_at.desc())).all()
    capacity_form = forms.get("capacity_form") or CapacityForm(prefix="cap", formdata=None)
    capacity_form.service_type_id.choices = _choices(choice_types)
    rule_form = forms.get("rule_form") or RuleForm(prefix="rule", formdata=None)
    rule_form.service_type_ids.choices = _choices(choice_types)
    return {
        "provider": provider, "members": _active_members(provider.id), "invitations": invitations,
        "capacities": _rows(ProviderCapacity, provider.id, ProviderCapacity.id),
        "rules": _rows(AutoAcceptRule, provider.id, AutoAcceptRule.id),
        "attachments": _rows(ProviderAttachment, provider.id, ProviderAttachment.uploaded_at.desc()),
        "decisions": _rows(ProviderDecision, provider.id, ProviderDecision.at.desc(), ProviderDecision.id.desc(),
                           limit=10),
        "type_names": {t.id: t.name() for t in types}, "today": _today(),
        "actions": policy.organisation_actions(current_user, provider),
        "invite_form": forms.get("invite_form") or InviteForm(prefix="inv", formdata=None),
        "capacity_form": capacity_form, "rule_form": rule_form,
        "attachment_form": forms.get("attachment_form") or AttachmentForm(prefix="att", formdata=None),
        "resubmit_form": forms.get("resubmit_form") or ResubmitForm(prefix="re", formdata=None),
        "completion_form": forms.get("completion_form") or CompletionForm(
            prefix="cmp", formdata=None, data={"completion_by": provider.completion_by}),
        "requested": requested_services(provider),
    }


def _render_organisation(provider: Provider, status: int = 200, **forms):
    return render_template("providers/organisation.html", **_organisation_context(provider, **forms)), status


def _organisation_url(anchor: str) -> str:
    return url_for("providers.organisation") + "#" + anchor


def _organisation_form(provider: Provider, form, form_key: str, anchor: str, action, success: str, **kwargs):
    """A form of the organisation's page: on refusal the page again with the errors."""
    return form_action(form, action, success=success, next_url=_organisation_url(anchor),
                       render=lambda status: _render_organisation(provider, status, **{form_key: form}), **kwargs)


def _organisation_button(anchor: str, action, success: str):
    """A plain button of the organisation's page: a refusal is flashed."""
    return form_action(None, action, success=success, next_url=_organisation_url(anchor))


def _button_route(rule: str, endpoint: str, anchor: str, service, success) -> None:
    """A plain button of the organisation's page acting on one of its rows: the
    service is called as ``service(provider_id, row_id, actor)``."""

    @role_required(Role.PROVIDER)
    def view(**ids):
        provider = _managed_provider()
        (row_id,) = ids.values()
        return _organisation_button(anchor, lambda: service(provider.id, row_id, current_user), str(success))

    view.__name__ = endpoint
    bp.add_url_rule(rule, endpoint, view, methods=["POST"])


_button_route("/organisation/invitations/<int:invitation_id>/revoke", "revoke_invitation", "members",
              members.revoke_invitation, _l("The invitation has been cancelled; its link no longer works."))
_button_route("/organisation/members/<int:user_id>/remove", "remove_member", "members", members.remove_member,
              _l("The member has been removed and can no longer log in."))
_button_route("/organisation/capacity/<int:capacity_id>/delete", "capacity_delete", "capacity",
              org_profile.remove_capacity, _l("The capacity limit has been removed."))
_button_route("/organisation/rules/<int:rule_id>/delete", "rule_delete", "rules", org_profile.delete_auto_accept_rule,
              _l("The rule has been deleted."))
_button_route("/organisation/attachments/<int:attachment_id>/delete", "attachment_delete", "attachments",
              documents.delete_attachment, _l("The document has been removed."))


@bp.get("/organisation")
@role_required(Role.PROVIDER)
def organisation():
    return _render_organisation(_own_provider())


@bp.route("/organisation/profile", methods=["GET", "POST"])
@role_required(Role.PROVIDER)
def edit_profile():
    provider = _managed_provider()
    form = _make_form(ProfileForm, obj=provider) if request.method == "GET" else _make_form(ProfileForm)
    too_large = form is None
    if too_large:
        flash(_too_large_message(), "error")
        form = ProfileForm(formdata=None, obj=provider)
    if too_large or request.method == "GET":
        form.service_areas.data = "\n".join(provider.service_areas or [])

    def page(status: int = 200):
        return render_template("providers/profile_edit.html", form=form, provider=provider), status

    if too_large:
        return page(413)
    if request.method == "POST":
        return form_action(
            form, lambda: org_profile.update_profile(
                provider.id, description=form.description.data or "", languages=form.languages.data or [],
                service_areas=parse_list(form.service_areas.data), website=form.website.data,
                phone=form.phone.data, email=form.email.data, logo=_upload(form.logo),
                remove_logo=form.remove_logo.data, actor=current_user),
            success=_("The profile has been saved."), next_url=url_for("providers.organisation"), render=page)
    return page()


@bp.post("/organisation/invitations")
@role_required(Role.PROVIDER)
def invite_member():
    provider = _managed_provider()
    form = InviteForm(prefix="inv")
    return _organisation_form(provider, form, "invite_form", "members",
                              lambda: members.invite_member(provider.id, form.email.data, form.provider_role.data,
                                                            current_user),
                              _("The invitation has been sent to %(email)s.", email=form.email.data))


@bp.post("/organisation/members/<int:user_id>/role")
@role_required(Role.PROVIDER)
def member_role(user_id: int):
    provider = _managed_provider()
    form = MemberRoleForm()
    if not form.validate():
        flash(_("Choose the role."), "error")
        return redirect(_organisation_url("members"))
    return _organisation_button("members",
                                lambda: members.set_member_role(provider.id, user_id, form.provider_role.data,
                                                                current_user),
                                _("The role has been changed."))


@bp.post("/organisation/completion")
@role_required(Role.PROVIDER)
def completion_save():
    provider = _managed_provider()
    form = CompletionForm(prefix="cmp")
    return _organisation_form(provider, form, "completion_form", "completion",
                              lambda: members.set_completion_by(provider.id, form.completion_by.data, current_user),
                              _("Saved: who may complete orders."))


@bp.post("/organisation/capacity")
@role_required(Role.PROVIDER)
def capacity_save():
    provider = _managed_provider()
    form = CapacityForm(prefix="cap")
    form.service_type_id.choices = _choices(_choice_types(provider.id))
    return _organisation_form(provider, form, "capacity_form", "capacity",
                              lambda: org_profile.set_capacity(provider.id, form.service_type_id.data,
                                                               form.orders_per_week.data, current_user),
                              _("The capacity has been saved."))


@bp.post("/organisation/rules")
@role_required(Role.PROVIDER)
def rule_create():
    provider = _managed_provider()
    form = RuleForm(prefix="rule")
    form.service_type_ids.choices = _choices(_choice_types(provider.id))
    return _organisation_form(provider, form, "rule_form", "rules",
                              lambda: org_profile.create_auto_accept_rule(
                                  provider.id, service_type_ids=form.service_type_ids.data or [],
                                  postal_codes=parse_list(form.postal_codes.data), weekdays=form.weekdays.data or [],
                                  capacity_per_week=form.capacity_per_week.data, actor=current_user),
                              _("The automatic-acceptance rule has been saved."))


@bp.post("/organisation/rules/<int:rule_id>/active")
@role_required(Role.PROVIDER)
def rule_toggle(rule_id: int):
    provider = _managed_provider()
    active = request.form.get("active") == "1"
    return _organisation_button("rules", lambda: org_profile.set_rule_active(provider.id, rule_id, active, current_user),
                                _("The rule is on.") if active else _("The rule is off."))


@bp.post("/organisation/attachments")
@role_required(Role.PROVIDER)
def attachment_upload():
    provider = _managed_provider()
    form = _make_form(AttachmentForm, prefix="att")
    if form is None:
        flash(_too_large_message(), "error")
        return _render_organisation(provider, 413)
    return _organisation_form(provider, form, "attachment_form", "attachments",
                              lambda: documents.add_attachment(provider.id, form.kind.data, _upload(form.file),
                                                               form.expires_on.data, current_user),
                              _("The document has been added."))


@bp.post("/organisation/resubmit")
@role_required(Role.PROVIDER)
def resubmit():
    provider = _managed_provider()
    form = ResubmitForm(prefix="re")
    return _organisation_form(provider, form, "resubmit_form", "status",
                              lambda: decisions.resubmit_application(provider.id, form.note.data, current_user),
                              _("The application has been sent back for review."), aliases={"reasons": "note"})


# --------------------------------------------------------------------------- administrators

ADMIN_TABS = {
    "applications": (ProviderStatus.PENDING, ProviderStatus.INFO_REQUESTED),
    "approved": (ProviderStatus.APPROVED,),
    "suspended": (ProviderStatus.SUSPENDED,),
    "rejected": (ProviderStatus.REJECTED,),
    "all": tuple(ProviderStatus),
}


@bp.get("/admin/providers")
@role_required(Role.ADMIN)
def admin_list():
    tab = request.args.get("status", "applications")
    if tab not in ADMIN_TABS:
        tab = "applications"
    search = query_str("q")
    page = query_page(last=10_000)
    stmt = sa.select(Provider).where(Provider.status.in_(ADMIN_TABS[tab]))
    if search:
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(Provider.name.ilike(like, escape="\\"), Provider.business_id.ilike(like, escape="\\")))
    order = (Provider.created_at.asc(), Provider.id) if tab == "applications" else (Provider.name, Provider.id)
    rows = db.session.scalars(stmt.order_by(*order).offset((page - 1) * ADMIN_PAGE_SIZE)
                              .limit(ADMIN_PAGE_SIZE + 1)).all()
    counts = dict(db.session.execute(sa.select(Provider.status, sa.func.count()).group_by(Provider.status)).all())
    tab_counts = {name: sum(counts.get(s, 0) for s in statuses) for name, statuses in ADMIN_TABS.items()}
    return render_template("providers/admin_list.html", providers=rows[:ADMIN_PAGE_SIZE], tab=tab, search=search,
                           page=page, has_next=len(rows) > ADMIN_PAGE_SIZE, tab_counts=tab_counts)


def _admin_detail_context(provider: Provider, **forms) -> dict:
    decider = sa.orm.aliased(User)
    decisions_made = db.session.execute(
        sa.select(ProviderDecision, decider.name, decider.email)
        .outerjoin(decider, decider.id == ProviderDecision.decided_by_id)
        .where(ProviderDecision.provider_id == provider.id)
        .order_by(ProviderDecision.at.desc(), ProviderDecision.id.desc())).all()
    requested = requested_services(provider)
    return {
        "provider": provider, "decisions": decisions_made,
        "attachments": _rows(ProviderAttachment, provider.id, ProviderAttachment.uploaded_at.desc()),
        "members": _active_members(provider.id), "requested": requested,
        "soteri_needed": [t for t in requested if t.needs_soteri], "today": _today(),
        "actions": policy.admin_actions(current_user, provider),
        "decision_form": forms.get("decision_form") or DecisionForm(formdata=None),
        "suspend_form": forms.get("suspend_form") or ReasonsForm(prefix="sus", formdata=None),
        "reinstate_form": forms.get("reinstate_form") or ReasonsForm(prefix="rei", formdata=None),
        "missing_documents": [str(ATTACHMENT_LABELS[k]) for k in documents.missing_documents(provider)],
    }


def _admin_provider(provider_id: int) -> Provider:
    return db.get_or_404(Provider, provider_id)


@bp.get("/admin/providers/<int:provider_id>")
@role_required(Role.ADMIN)
def admin_detail(provider_id: int):
    provider = _admin_provider(provider_id)
    return render_template("providers/admin_detail.html", **_admin_detail_context(provider))


def _admin_action(provider: Provider, form, form_key: str, action, success: str, confirm=None):
    """A decision form of the admin page. Invalid input: the page again with the
    errors. Refused because the provider's state moved on (409): the message and
    the page as it is now."""
    detail = url_for("providers.admin_detail", provider_id=provider.id)

    def render(status: int):
        if status == 409:
            return redirect(detail)
        return render_template("providers/admin_detail.html",
                               **_admin_detail_context(provider, **{form_key: form})), status

    return form_action(form, action, success=success, next_url=detail, render=render, confirm=confirm)


@bp.post("/admin/providers/<int:provider_id>/decision")
@role_required(Role.ADMIN)
def admin_decide(provider_id: int):
    provider = _admin_provider(provider_id)
    form = DecisionForm()
    detail = url_for("providers.admin_detail", provider_id=provider.id)
    reject = None
    # Confirm a rejection that can happen (allowed now, reasons written); otherwise
    # the refusal is shown at once.
    if form.action.data == "reject" and "reject" in policy.admin_actions(current_user, provider) \
            and (form.reasons.data or "").strip():
        def reject() -> Confirmation:
            return Confirmation(
                title=_("Reject the application of %(name)s?", name=provider.name),
                consequences=[_("The application is rejected. The decision is final: it cannot be approved later."),
                              _("The applicant gets the decision and your reasons by e-mail: %(reasons)s",
                                reasons=form.reasons.data or "–"),
                              _("Invitations to set up a login stop working.")],
                button=_("Yes, reject the application"), back=detail, ask=["reasons"])
    return _admin_action(provider, form, "decision_form",
                         lambda: decisions.decide_application(provider.id, form.action.data, form.reasons.data,
                                                              current_user),
                         _("The decision has been recorded and the applicant has been told by e-mail."),
                         confirm=reject)


@bp.post("/admin/providers/<int:provider_id>/suspend")
@role_required(Role.ADMIN)
def admin_suspend(provider_id: int):
    provider = _admin_provider(provider_id)
    form = ReasonsForm(prefix="sus")
    detail = url_for("providers.admin_detail", provider_id=provider.id)
    return _admin_action(provider, form, "suspend_form",
                         lambda: decisions.suspend_provider(provider.id, form.reasons.data, current_user),
                         _("The provider has been suspended: its open offers were withdrawn and its active orders "
                           "flagged to the guidance staff."),
                         confirm=None if not ("suspend" in policy.admin_actions(current_user, provider)
                                              and (form.reasons.data or "").strip()) else lambda: Confirmation(
                             title=_("Suspend %(name)s?", name=provider.name),
                             consequences=[_("The provider gets no new offers."),
                                           _("Its open offers are withdrawn."),
                                           _("Its active orders are flagged to the guidance staff."),
                                           _("The provider is told by e-mail, with your reasons: %(reasons)s",
                                             reasons=form.reasons.data or "–")],
                             button=_("Yes, suspend the provider"), back=detail, ask=["reasons"]))


@bp.post("/admin/providers/<int:provider_id>/reinstate")
@role_required(Role.ADMIN)
def admin_reinstate(provider_id: int):
    provider = _admin_provider(provider_id)
    form = ReasonsForm(prefix="rei")
    return _admin_action(provider, form, "reinstate_form",
                         lambda: decisions.reinstate_provider(provider.id, form.reasons.data, current_user),
                         _("The provider has been reinstated and can again receive orders."))
