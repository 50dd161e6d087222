"""Provider web pages: the public application form and profile, invitations, the
organisation's own page (profile, members, capacity, automatic acceptance,
attachments) and the administrators' list and decision pages.

Each route: look up (404 if not visible) → permission → validate the form → one
service call → commit → flash + redirect; a refused request re-renders the form
with the service's messages and a 4xx status, with nothing written."""

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
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from accounts.models import Role, User
from accounts.permissions import role_required
from core.db import utcnow
from core.errors import (
    ConflictError,
    DomainError,
    GoneError,
    NotFoundError,
    ValidationFailed,
)
from core.extensions import db
from providers import bp
from providers import services as svc
from providers.forms import (
    AcceptInvitationForm,
    ApplicationForm,
    AttachmentForm,
    CapacityForm,
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


def _upload(field) -> svc.Upload | None:
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    # Read one byte over the limit: enough to tell "too large" without reading more.
    return svc.Upload(storage.filename, storage.stream.read(svc.upload_limit() + 1))


def _place_errors(form, exc: DomainError) -> None:
    """Put a service's per-field errors on the form's fields; the rest is flashed."""
    unplaced = []
    for name, messages in (exc.fields or {}).items():
        if name in form:
            form[name].errors = list(form[name].errors) + [str(m) for m in messages]
        else:
            unplaced.extend(messages)
    form._errors = None  # WTForms caches form.errors
    if unplaced:
        flash(" ".join(map(str, unplaced)), "error")
    elif not exc.fields:
        flash(exc.message, "error")


def _service_types():
    from catalogue.models import ServiceCategory, ServiceType

    return list(db.session.scalars(
        sa.select(ServiceType).join(ServiceCategory).where(ServiceType.active.is_(True))
        .order_by(ServiceCategory.position, ServiceCategory.id, ServiceType.name_fi)))


def _grouped(types):
    groups: dict = {}
    for t in types:
        groups.setdefault(t.category.name(), []).append(t)
    return list(groups.items())


def _lang() -> str:
    return str(get_locale() or "fi")


# --------------------------------------------------------------------------- application


@bp.route("/providers/apply", methods=["GET", "POST"])
def apply():
    form = _make_form(ApplicationForm)
    types = _service_types()
    if form is None:
        flash(_too_large_message(), "error")
        form = ApplicationForm(formdata=None)
        form.service_type_ids.choices = [SelectChoice(t.id, t.name()) for t in types]
        return render_template("providers/apply.html", form=form, groups=_grouped(types)), 413
    form.service_type_ids.choices = [SelectChoice(t.id, t.name()) for t in types]
    status = 200
    if form.validate_on_submit():
        attachments = []
        for kind, expires in ((AttachmentKind.INSURANCE, form.expires_insurance.data),
                              (AttachmentKind.SELF_MONITORING_PLAN, None),
                              (AttachmentKind.CERTIFICATE, form.expires_certificate.data)):
            upload = _upload(form[f"attachment_{kind}"])
            if upload is not None:
                attachments.append(svc.NewAttachment(kind=kind, upload=upload, expires_on=expires))
        try:
            svc.submit_application(
                name=form.name.data, business_id=form.business_id.data, kind=form.kind.data,
                email=form.email.data, phone=form.phone.data, contact_person=form.contact_person.data,
                service_areas=svc.parse_list(form.service_areas.data), languages=form.languages.data or [],
                service_type_ids=form.service_type_ids.data or [], soteri_registered=form.soteri_registered.data,
                prepayment_register=form.prepayment_register.data, description=form.description.data or "",
                website=form.website.data, attachments=attachments, language=_lang())
        except (ValidationFailed, ConflictError) as exc:
            db.session.rollback()
            _place_errors(form, exc)
            status = exc.status
        else:
            db.session.commit()
            return redirect(url_for("providers.application_sent"))
    elif request.method == "POST":
        status = 422
    return render_template("providers/apply.html", form=form, groups=_grouped(types)), status


@bp.get("/providers/apply/sent")
def application_sent():
    return render_template("providers/application_sent.html")


# --------------------------------------------------------------------------- invitations


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        invitation = svc.invitation_for_token(token)
    except (NotFoundError, GoneError) as exc:
        return render_template("providers/invitation_invalid.html", message=exc.message), exc.status
    provider = db.session.get(Provider, invitation.provider_id)
    if current_user.is_authenticated:
        return render_template("providers/invitation.html", invitation=invitation, provider=provider, form=None)
    form = AcceptInvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = svc.accept_invitation(token, form.name.data, form.password.data, language=_lang())
        except (NotFoundError, GoneError) as exc:
            db.session.rollback()
            return render_template("providers/invitation_invalid.html", message=exc.message), exc.status
        except (ValidationFailed, ConflictError) as exc:
            db.session.rollback()
            _place_errors(form, exc)
            status = exc.status
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome to Kotiapu! Your login has been created."), "success")
            return redirect(url_for("providers.organisation"))
    elif request.method == "POST":
        status = 422
    return render_template("providers/invitation.html", invitation=invitation, provider=provider, form=form), status


# --------------------------------------------------------------------------- public profile


def _visible_provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        abort(404)
    if provider.status == ProviderStatus.APPROVED:
        return provider
    if current_user.is_authenticated and (current_user.role == Role.ADMIN or current_user.provider_id == provider.id):
        return provider
    abort(404)


@bp.get("/providers/<int:provider_id>")
def profile(provider_id: int):
    from catalogue.models import Offering, ServiceType

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
    path = svc.stored_path(provider.logo_path)
    if not path.exists():
        abort(404)
    ext = provider.logo_path.rsplit(".", 1)[-1]
    response = send_file(path, mimetype=svc.FILE_TYPES[ext][0], max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=3600" if provider.status == ProviderStatus.APPROVED \
        else "private, no-store"
    return response


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment_download(attachment_id: int):
    """Only platform admins and members of the organisation; anyone else 404."""
    row = svc.get_attachment(attachment_id, current_user)
    path = svc.stored_path(row.stored_name)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=row.content_type, as_attachment=True, download_name=row.filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- the organisation's own page


def _own_provider() -> Provider:
    provider = db.session.get(Provider, current_user.provider_id)
    if provider is None:
        abort(404)
    return provider


def _choice_types(provider_id: int, all_types):
    """Services for capacity and rules: those the organisation offers, else all."""
    from catalogue.models import Offering

    offered = set(db.session.scalars(sa.select(Offering.service_type_id).where(
        Offering.provider_id == provider_id, Offering.active.is_(True))))
    chosen = [t for t in all_types if t.id in offered]
    return chosen or all_types


def _organisation_context(provider: Provider, **forms) -> dict:
    now = utcnow()
    types = _service_types()
    choice_types = _choice_types(provider.id, types)
    names = {t.id: t.name() for t in types}
    members = db.session.scalars(sa.select(User).where(User.provider_id == provider.id, User.active.is_(True))
                                 .order_by(User.name, User.email)).all()
    invitations = db.session.scalars(sa.select(ProviderInvitation).where(
        ProviderInvitation.provider_id == provider.id, ProviderInvitation.used_at.is_(None),
        ProviderInvitation.expires_at > now).order_by(ProviderInvitation.created_at.desc())).all()
    capacities = db.session.scalars(sa.select(ProviderCapacity).where(ProviderCapacity.provider_id == provider.id)
                                    .order_by(ProviderCapacity.id)).all()
    rules = db.session.scalars(sa.select(AutoAcceptRule).where(AutoAcceptRule.provider_id == provider.id)
                               .order_by(AutoAcceptRule.id)).all()
    attachments = db.session.scalars(sa.select(ProviderAttachment).where(
        ProviderAttachment.provider_id == provider.id).order_by(ProviderAttachment.uploaded_at.desc())).all()
    decisions = db.session.scalars(sa.select(ProviderDecision).where(ProviderDecision.provider_id == provider.id)
                                   .order_by(ProviderDecision.at.desc(), ProviderDecision.id.desc()).limit(10)).all()
    capacity_form = forms.get("capacity_form") or CapacityForm(prefix="cap", formdata=None)
    capacity_form.service_type_id.choices = [SelectChoice(t.id, t.name()) for t in choice_types]
    rule_form = forms.get("rule_form") or RuleForm(prefix="rule", formdata=None)
    rule_form.service_type_ids.choices = [SelectChoice(t.id, t.name()) for t in choice_types]
    return {
        "provider": provider, "members": members, "invitations": invitations, "capacities": capacities, "rules": rules,
        "attachments": attachments, "decisions": decisions, "type_names": names, "today": svc._today(),
        "can_manage": svc.can_manage(current_user, provider.id),
        "invite_form": forms.get("invite_form") or InviteForm(prefix="inv", formdata=None),
        "capacity_form": capacity_form, "rule_form": rule_form,
        "attachment_form": forms.get("attachment_form") or AttachmentForm(prefix="att", formdata=None),
        "resubmit_form": forms.get("resubmit_form") or ResubmitForm(prefix="re", formdata=None),
        "role_form": MemberRoleForm(formdata=None), "action_form": FlaskForm(formdata=None),
        "requested": svc.requested_services(provider),
    }


def _render_organisation(provider: Provider, status: int = 200, **forms):
    return render_template("providers/organisation.html", **_organisation_context(provider, **forms)), status


def _back(anchor: str):
    return redirect(url_for("providers.organisation") + "#" + anchor)


def _form_action(provider: Provider, form, form_key: str, anchor: str, call, success: str):
    """Validate ``form``, run the service ``call``, commit and redirect; on refusal
    re-render the organisation page with the messages on the form."""
    if form.validate_on_submit():
        try:
            call()
        except (ValidationFailed, ConflictError) as exc:
            db.session.rollback()
            _place_errors(form, exc)
            return _render_organisation(provider, exc.status, **{form_key: form})
        db.session.commit()
        flash(success, "success")
        return _back(anchor)
    return _render_organisation(provider, 422, **{form_key: form})


def _button_action(anchor: str, call, success: str):
    """A plain button (CSRF only): run the service, commit, flash and redirect."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        call()
    except (ValidationFailed, ConflictError) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(anchor)
    db.session.commit()
    flash(success, "success")
    return _back(anchor)


@bp.get("/organisation")
@role_required(Role.PROVIDER)
def organisation():
    return _render_organisation(_own_provider())


@bp.route("/organisation/profile", methods=["GET", "POST"])
@role_required(Role.PROVIDER)
def edit_profile():
    provider = _own_provider()
    if not svc.can_manage(current_user, provider.id):
        abort(403)
    form = _make_form(ProfileForm, obj=provider) if request.method == "GET" else _make_form(ProfileForm)
    if form is None:
        flash(_too_large_message(), "error")
        form = ProfileForm(formdata=None, obj=provider)
        form.service_areas.data = "\n".join(provider.service_areas or [])
        return render_template("providers/profile_edit.html", form=form, provider=provider), 413
    if request.method == "GET":
        form.service_areas.data = "\n".join(provider.service_areas or [])
    status = 200
    if form.validate_on_submit():
        try:
            svc.update_profile(
                provider.id, description=form.description.data or "", languages=form.languages.data or [],
                service_areas=svc.parse_list(form.service_areas.data), website=form.website.data,
                phone=form.phone.data, email=form.email.data, logo=_upload(form.logo),
                remove_logo=form.remove_logo.data, actor=current_user)
        except (ValidationFailed, ConflictError) as exc:
            db.session.rollback()
            _place_errors(form, exc)
            status = exc.status
        else:
            db.session.commit()
            flash(_("The profile has been saved."), "success")
            return redirect(url_for("providers.organisation"))
    elif request.method == "POST":
        status = 422
    return render_template("providers/profile_edit.html", form=form, provider=provider), status


@bp.post("/organisation/invitations")
@role_required(Role.PROVIDER)
def invite_member():
    provider = _own_provider()
    form = InviteForm(prefix="inv")
    return _form_action(provider, form, "invite_form", "members",
                        lambda: svc.invite_member(provider.id, form.email.data, form.provider_role.data, current_user),
                        _("The invitation has been sent to %(email)s.", email=form.email.data))


@bp.post("/organisation/invitations/<int:invitation_id>/revoke")
@role_required(Role.PROVIDER)
def revoke_invitation(invitation_id: int):
    provider = _own_provider()
    return _button_action("members", lambda: svc.revoke_invitation(provider.id, invitation_id, current_user),
                          _("The invitation has been cancelled; its link no longer works."))


@bp.post("/organisation/members/<int:user_id>/role")
@role_required(Role.PROVIDER)
def member_role(user_id: int):
    provider = _own_provider()
    form = MemberRoleForm()
    if not form.validate_on_submit():
        flash(_("Choose the role."), "error")
        return _back("members")
    return _button_action("members",
                          lambda: svc.set_member_role(provider.id, user_id, form.provider_role.data, current_user),
                          _("The role has been changed."))


@bp.post("/organisation/members/<int:user_id>/remove")
@role_required(Role.PROVIDER)
def remove_member(user_id: int):
    provider = _own_provider()
    return _button_action("members", lambda: svc.remove_member(provider.id, user_id, current_user),
                          _("The member has been removed and can no longer log in."))


@bp.post("/organisation/capacity")
@role_required(Role.PROVIDER)
def capacity_save():
    provider = _own_provider()
    form = CapacityForm(prefix="cap")
    form.service_type_id.choices = [SelectChoice(t.id, t.name()) for t in _choice_types(provider.id, _service_types())]
    return _form_action(provider, form, "capacity_form", "capacity",
                        lambda: svc.set_capacity(provider.id, form.service_type_id.data, form.orders_per_week.data,
                                                 current_user),
                        _("The capacity has been saved."))


@bp.post("/organisation/capacity/<int:capacity_id>/delete")
@role_required(Role.PROVIDER)
def capacity_delete(capacity_id: int):
    provider = _own_provider()
    return _button_action("capacity", lambda: svc.remove_capacity(provider.id, capacity_id, current_user),
                          _("The capacity limit has been removed."))


@bp.post("/organisation/rules")
@role_required(Role.PROVIDER)
def rule_create():
    provider = _own_provider()
    form = RuleForm(prefix="rule")
    form.service_type_ids.choices = [SelectChoice(t.id, t.name()) for t in _choice_types(provider.id, _service_types())]
    return _form_action(provider, form, "rule_form", "rules",
                        lambda: svc.create_auto_accept_rule(
                            provider.id, service_type_ids=form.service_type_ids.data or [],
                            postal_codes=svc.parse_list(form.postal_codes.data), weekdays=form.weekdays.data or [],
                            capacity_per_week=form.capacity_per_week.data, actor=current_user),
                        _("The automatic-acceptance rule has been saved."))


@bp.post("/organisation/rules/<int:rule_id>/active")
@role_required(Role.PROVIDER)
def rule_toggle(rule_id: int):
    provider = _own_provider()
    active = request.form.get("active") == "1"
    return _button_action("rules", lambda: svc.set_rule_active(provider.id, rule_id, active, current_user),
                          _("The rule is on.") if active else _("The rule is off."))


@bp.post("/organisation/rules/<int:rule_id>/delete")
@role_required(Role.PROVIDER)
def rule_delete(rule_id: int):
    provider = _own_provider()
    return _button_action("rules", lambda: svc.delete_auto_accept_rule(provider.id, rule_id, current_user),
                          _("The rule has been deleted."))


@bp.post("/organisation/attachments")
@role_required(Role.PROVIDER)
def attachment_upload():
    provider = _own_provider()
    form = _make_form(AttachmentForm, prefix="att")
    if form is None:
        flash(_too_large_message(), "error")
        return _render_organisation(provider, 413)
    return _form_action(provider, form, "attachment_form", "attachments",
                        lambda: svc.add_attachment(provider.id, form.kind.data, _upload(form.file),
                                                   form.expires_on.data, current_user),
                        _("The document has been added."))


@bp.post("/organisation/attachments/<int:attachment_id>/delete")
@role_required(Role.PROVIDER)
def attachment_delete(attachment_id: int):
    provider = _own_provider()
    return _button_action("attachments", lambda: svc.delete_attachment(provider.id, attachment_id, current_user),
                          _("The document has been removed."))


@bp.post("/organisation/resubmit")
@role_required(Role.PROVIDER)
def resubmit():
    provider = _own_provider()
    form = ResubmitForm(prefix="re")
    return _form_action(provider, form, "resubmit_form", "status",
                        lambda: svc.resubmit_application(provider.id, form.note.data, current_user),
                        _("The application has been sent back for review."))


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
    search = (request.args.get("q") or "").strip()[:100]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
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
    decisions = db.session.execute(
        sa.select(ProviderDecision, decider.name, decider.email)
        .outerjoin(decider, decider.id == ProviderDecision.decided_by_id)
        .where(ProviderDecision.provider_id == provider.id)
        .order_by(ProviderDecision.at.desc(), ProviderDecision.id.desc())).all()
    attachments = db.session.scalars(sa.select(ProviderAttachment).where(
        ProviderAttachment.provider_id == provider.id).order_by(ProviderAttachment.uploaded_at.desc())).all()
    members = db.session.scalars(sa.select(User).where(User.provider_id == provider.id, User.active.is_(True))
                                 .order_by(User.name)).all()
    requested = svc.requested_services(provider)
    return {
        "provider": provider, "decisions": decisions, "attachments": attachments, "members": members, "requested": requested,
        "soteri_needed": [t for t in requested if t.needs_soteri], "today": svc._today(),
        "decision_form": forms.get("decision_form") or DecisionForm(formdata=None),
        "suspend_form": forms.get("suspend_form") or ReasonsForm(prefix="sus", formdata=None),
        "reinstate_form": forms.get("reinstate_form") or ReasonsForm(prefix="rei", formdata=None),
    }


def _admin_provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        abort(404)
    return provider


@bp.get("/admin/providers/<int:provider_id>")
@role_required(Role.ADMIN)
def admin_detail(provider_id: int):
    provider = _admin_provider(provider_id)
    return render_template("providers/admin_detail.html", **_admin_detail_context(provider))


def _admin_action(provider: Provider, form, form_key: str, call, success: str):
    if form.validate_on_submit():
        try:
            call()
        except ValidationFailed as exc:
            db.session.rollback()
            _place_errors(form, exc)
            return render_template("providers/admin_detail.html",
                                   **_admin_detail_context(provider, **{form_key: form})), exc.status
        except ConflictError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("providers.admin_detail", provider_id=provider.id))
        db.session.commit()
        flash(success, "success")
        return redirect(url_for("providers.admin_detail", provider_id=provider.id))
    return render_template("providers/admin_detail.html", **_admin_detail_context(provider, **{form_key: form})), 422


@bp.post("/admin/providers/<int:provider_id>/decision")
@role_required(Role.ADMIN)
def admin_decide(provider_id: int):
    provider = _admin_provider(provider_id)
    form = DecisionForm()
    return _admin_action(provider, form, "decision_form",
                         lambda: svc.decide_application(provider.id, form.action.data, form.reasons.data, current_user),
                         _("The decision has been recorded and the applicant has been told by e-mail."))


@bp.post("/admin/providers/<int:provider_id>/suspend")
@role_required(Role.ADMIN)
def admin_suspend(provider_id: int):
    provider = _admin_provider(provider_id)
    form = ReasonsForm(prefix="sus")
    return _admin_action(provider, form, "suspend_form",
                         lambda: svc.suspend_provider(provider.id, form.reasons.data, current_user),
                         _("The provider has been suspended: its open offers were withdrawn and its active orders "
                           "flagged to the guidance staff."))


@bp.post("/admin/providers/<int:provider_id>/reinstate")
@role_required(Role.ADMIN)
def admin_reinstate(provider_id: int):
    provider = _admin_provider(provider_id)
    form = ReasonsForm(prefix="rei")
    return _admin_action(provider, form, "reinstate_form",
                         lambda: svc.reinstate_provider(provider.id, form.reasons.data, current_user),
                         _("The provider has been reinstated and can again receive orders."))
