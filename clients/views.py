"""Client pages. Staff: finding, registering and editing clients, consent,
handover, network, relatives and logins, follow-ups, messages, retention and
erasure decisions, guidance contacts and the access log. Clients (and relatives
acting for them): who helps me, who has seen my data, messages, my data (download
and erasure request). Each POST goes through ``core.actions.form_action``: validate,
one service call, errors on the form or flashed, redirect; the request's unit of
work commits. The rules of who sees what come from ``clients.policy``."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Response, abort, current_app, get_template_attribute, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from accounts.models import Role
from accounts.permissions import role_required
from accounts.reauth import recent_auth_required
from clients import bp, concerns, policy, queries, services, signals
from clients.forms import (
    AccessLogFilterForm, ClientEditForm, ClientForm, ClientSearchForm, ConsentForm, ErasureRequestForm,
    FollowUpDoneForm, GuidanceContactForm, GuidanceFilterForm, HandoverForm, LoginForm, MessageForm,
    MandateForm, NetworkMemberForm, ReasonForm, RepresentativeForm, SetPasswordForm, TOPIC_LABELS,
)
from clients.models import (
    SEGMENT_CHECK_DAYS, Client, ClientEventAction, ClientRepresentative, Concern, FollowUp, MandateScope, NetworkMember,
    Segment,
)
from clients.portal import acts_for_several, current_client_id
from core.access import Purpose, record_access, record_access_many
from core.actions import Confirmation, form_action
from core.current import request_user
from core.db import utcnow
from core.extensions import db
from core.i18n import current_language, template_text
from core.inputs import bounded_id, csrf_hidden_tag, query_int
from core.templating import RowUrl, escape_text, fmt_date, status_badges, status_label
from core.time import local_today
from orders.models import OrderStatus
from orders.services import visible_order


def _detail_url(client_id: int, anchor: str | None = None) -> str:
    return url_for("clients.detail", client_id=client_id, _anchor=anchor)


def _form_data(form) -> dict:
    return {name: form[name].data for name in form.data if name != "csrf_token"}


def _staff_form_page(client_id: int, what: str, form, template: str, action, success: str, anchor: str | None = None,
                     **context):
    """A staff page with a form about one client. Showing the form logs a read; a
    POST is logged by the service as a change, and a refused POST that shows the
    client's data again as a read (one access-log row per request either way)."""
    if request.method == "GET":
        client = services.get_client(request_user(), client_id, Purpose.GUIDANCE, what=what)
        return render_template(template, form=form, client=client, **context)
    client = services.lookup_client(request_user(), client_id)

    def render(status: int):
        record_access(client.id, "view", Purpose.GUIDANCE, what=what)
        return render_template(template, form=form, client=client, **context), status

    return form_action(form, lambda: action(client), success=success, next_url=_detail_url(client_id, anchor),
                       render=render)


def _button(form, action, success: str, back: str):
    """A small POSTed form on another page (the client's record): back there."""
    return form_action(form, action, success=success, next_url=back)


# -- staff: finding and registering ----------------------------------------------

@bp.get("/")
@role_required(Role.STAFF)
def search():
    form = ClientSearchForm(formdata=None)
    form.process(request.args)
    results = None
    if any(request.args.get(k) for k in ("q", "birth_date", "postal_code", "mine", "segment", "flagged")) \
            and form.validate():
        results = services.search_clients(
            request_user(), form.q.data or "", form.birth_date.data, form.postal_code.data or None,
            responsible_worker_id=request_user().id if form.mine.data else None, segment=form.segment.data or None,
            only_flagged=bool(form.flagged.data), limit=100)
    return render_template("clients/search.html", form=form, results=results)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new():
    form = ClientForm()
    if request.method == "POST":
        return form_action(form, lambda: services.create_client(request_user(), _form_data(form)),
                           success=_("Client registered. You are their responsible worker."),
                           next_url=lambda client: url_for("clients.detail", client_id=client.id),
                           render=lambda status: (render_template("clients/new.html", form=form), status))
    return render_template("clients/new.html", form=form)


# -- staff: the client record --------------------------------------------------

# The record's empty form fields as ``core/_form.html``'s ``field`` writes them, kept
# per language (and the hand-over choice per list of workers): on a GET they hold no
# data and no errors, so they are the same for every client; writing them (labels,
# hints, the select's options) was about a fifth of the page's template. The forms
# around them (the CSRF token, the action) are written on every request.
_kept_fields: dict[tuple, Markup] = {}
KEPT_FIELDS = 200  # at most; the hand-over choices change with the workers


def _kept_field(key: tuple, field_and_hint) -> Markup:
    """The kept HTML of a field; ``field_and_hint`` gives the bound field and its
    hint when it is written the first time."""
    html = _kept_fields.get(key)
    if html is None:
        if len(_kept_fields) >= KEPT_FIELDS:
            _kept_fields.clear()
        # The macro's own output: written by Jinja with autoescape on (the field's
        # values and labels escaped there), so nothing untrusted is marked safe here.
        html = _kept_fields[key] = Markup(get_template_attribute("core/_form.html", "field")(*field_and_hint()))  # nosec B704
    return html


# The record's links to the pages about the client, each made once by ``url_for``
# (per script root: the paths begin with it) and then by inserting the client's
# number (``core.templating.RowUrl``): fifteen ``url_for`` calls were a tenth of the
# template's work.
CLIENT_LINKS = ("clients.edit", "orders.new", "vouchers.new", "clients.guidance_contacts", "clients.access_log",
                "clients.staff_export", "clients.erase", "clients.erasure_decline", "clients.retention_keep",
                "clients.consent", "clients.give_login", "clients.staff_message", "clients.handover",
                "clients.network_new", "clients.relative_new")
_client_links: dict[str, dict[str, RowUrl]] = {}


def _links(client_id: int) -> dict[str, str]:
    """The record's links (``CLIENT_LINKS``) for the client, by endpoint."""
    kept = _client_links.get(request.script_root)
    if kept is None:
        kept = _client_links[request.script_root] = {endpoint: RowUrl(endpoint, "client_id")
                                                      for endpoint in CLIENT_LINKS}
    return {endpoint: url(client_id) for endpoint, url in kept.items()}


# The links of the record's rows (an order, ending a network member), made once per
# script root as ``_links`` makes the record's own.
_row_links: dict[str, tuple[RowUrl, RowUrl]] = {}


def _row_urls() -> tuple[RowUrl, RowUrl]:
    """(an order's page, ending a network member) as ``RowUrl``."""
    kept = _row_links.get(request.script_root)
    if kept is None:
        kept = _row_links[request.script_root] = (RowUrl("orders.detail", "order_id"),
                                                   RowUrl("clients.network_end", "member_id"))
    return kept


def order_rows(orders, order_url: RowUrl) -> Markup:
    """The orders table's rows of the staff client page, exactly as
    templates/clients/detail.html's loop wrote them under autoescape off: one
    f-string per row (the loop took fifteen pieces, five ``|e`` (each a ``Markup``)
    and a ``status_label`` call through ``context.call`` per row, for up to a hundred
    rows). The link is its two ends escaped once around the order's integer id, the
    status badge is made once per language (``status_badges``), a date's text needs
    no escaping, and every text from the database (number, service, provider) is
    escaped as ``|e`` escapes it (``escape_text``). A test compares the rows with
    the loop's, markup in every text."""
    if not orders:
        return Markup("")
    badges = status_badges(OrderStatus)
    head, tail = escape_text(order_url.head), escape_text(order_url.tail)
    rows = []
    for o in orders:
        status = o.status
        badge = badges.get(status)
        if badge is None:  # not an order status (there is none): as the loop wrote it
            badge = f'<span class="status status-{escape_text(status)}">{escape_text(status_label(status))}</span>'
        rows.append(f'\n    <tr><td><a href="{head}{o.id}{tail}">{escape_text(o.number)}</a></td>'
                    f'<td>{escape_text(o.service)}</td>\n'
                    f'      <td>{escape_text(o.provider_name or "–")}</td><td>{badge}</td>\n'
                    f'      <td>{fmt_date(o.start_date)}</td></tr>\n  ')
    return Markup("".join(rows))  # nosec B704 (every text from the database escaped above)


def _post_button(action: str, label: str, hidden_label, token: str) -> str:
    """clients/_macros.html's ``post_button`` as it writes it with a hidden label:
    ``action`` and ``token`` escaped here, ``label`` a translated text (markup as the
    template's ``_()`` gives it), ``hidden_label`` a text from the database."""
    hidden = (f'<span class="visually-hidden"> – {escape_text(hidden_label)}</span>' if hidden_label else "")
    return (f'\n<form method="post" action="{escape_text(action)}" class="inline-form">\n'
            f'  <input type="hidden" name="csrf_token" value="{escape_text(token)}">\n'
            f'  <button type="submit" class="button-link">{label}{hidden}</button>\n</form>\n')


# The network table's texts, as the template's ``_()`` wrote them (``template_text``).
_COORDINATES, _ENDED, _STARTS_LATER, _MARK_ENDED = (_l("Coordinates the client's services"), _l("ended"),
                                                    _l("starts later"), _l("Mark ended"))


def network_rows(network, order_url: RowUrl, end_url: RowUrl) -> Markup:
    """The network table's rows of the staff client page, exactly as
    templates/clients/detail.html's loop wrote them (autoescaped): one f-string per
    row instead of some twenty-five pieces, a dozen escapes and a ``post_button``
    macro call. Every text of an entry (name, role, organisation, responsibility,
    phone, e-mail) is escaped (``escape_text``); the texts of the page are its
    translations, as the template's ``_()`` gives them (not escaped: translations
    are markup there). A test compares the rows with the loop's."""
    if not network:
        return Markup("")
    coordinates, ended_text, later_text = (template_text(_COORDINATES), template_text(_ENDED),
                                           template_text(_STARTS_LATER))
    mark_ended = token = None
    today = local_today()
    rows = []
    for e in network:
        name = escape_text(e.name)
        ended = e.ends_on is not None and e.ends_on < today  # NetworkEntry.ended
        cell = f'<a href="{escape_text(order_url(e.order_id))}">{name}</a>' if e.order_id else name
        role = escape_text(e.role)
        if e.organisation and e.organisation != e.name:
            role = f"{role}, {escape_text(e.organisation)}"
        duty = coordinates if e.kind == "worker" else escape_text(e.responsibility)
        contact = f'{escape_text(e.phone or "")}{"<br>" if e.phone and e.email else ""}{escape_text(e.email or "")}'
        when = (f'{fmt_date(e.starts_on) if e.starts_on else ""} – {fmt_date(e.ends_on) if e.ends_on else ""}'
                f'{f" ({ended_text})" if ended else f" ({later_text})" if e.starts_on is not None and e.starts_on > today else ""}')
        button = ""
        if e.member_id and not ended:
            if token is None:
                mark_ended, token = template_text(_MARK_ENDED), current_app.jinja_env.globals["csrf_token"]()
            button = _post_button(end_url(e.member_id), mark_ended, e.name, token)
        muted = ' class="muted"' if ended else ""
        rows.append(f'\n      <tr{muted}>\n        <td>{cell}</td>\n        <td>{role}</td>\n'
                    f'        <td>{duty}</td>\n        <td>{contact}</td>\n        <td>{when}</td>\n'
                    f'        <td>{button}</td></tr>\n  ')
    return Markup("".join(rows))  # nosec B704 (every text of an entry escaped above)


@bp.get("/<int:client_id>")
@role_required(Role.STAFF)
def detail(client_id: int):
    user = request_user()
    client = services.get_client(user, client_id, Purpose.GUIDANCE,
                                 what="client record, orders, network and messages",
                                 staff_read=queries.staff_page_client)
    page = queries.staff_client_page(client)
    if client.unread_to_reader:  # else the UPDATE would find nothing to stamp
        services.mark_messages_read(user, client.id)
    choices = tuple((i, n) for i, n in page.pop("staff") if i != client.responsible_worker_id)
    lang = current_language()
    fields = {
        "note": _kept_field((lang, "note"), lambda: (ConsentForm().note,)),
        "body": _kept_field((lang, "body"), lambda: (MessageForm().body, _(
            "The client is told by e-mail that they have a new message; the e-mail does not contain the message."))),
        "email": _kept_field((lang, "email"), lambda: (
            LoginForm().email, _("The client gets an e-mail with a link to choose a password."))),
        "new_worker_id": _kept_field((lang, "new_worker_id", choices), lambda: (_handover_field(choices),)),
    }
    next_check = (client.last_check_at or client.created_at) + timedelta(days=SEGMENT_CHECK_DAYS[Segment(client.segment)])
    timeline = signals.timeline(client.id)
    if any(s.kind == signals.CONCERN for s in timeline) or any(f.concern_id for f in page["follow_ups"]):
        record_access(client.id, "view", Purpose.GUIDANCE, what=concerns.CONCERN_TEXT)
    actions = policy.staff_actions(client, page["logins"])
    order_url, end_url = _row_urls()
    # The small forms (consent, hand-over, message, the client's login) are written
    # around their kept fields with ``hidden``: on a GET each of them writes only
    # the CSRF token and no errors, written as a form without fields writes it
    # (``core.inputs.csrf_hidden_tag``). The reason form only goes with an erasure decision; a follow-up's "done"
    # form is its macro's.
    return render_template(
        "clients/detail.html", client=client, show_contact=policy.shows_contact(client, user),
        actions=actions, next_check=next_check, hidden=csrf_hidden_tag(), fields=fields, links=_links(client.id),
        order_rows=order_rows(page["orders"], order_url), network_rows=network_rows(page["network"], order_url, end_url),
        reason_form=ReasonForm() if "erase" in actions else None,
        sender_label=queries.sender_label,
        topic_labels=TOPIC_LABELS, signal_items=timeline, now=utcnow(), today=local_today(), **page)


def _handover_field(choices: tuple):
    form = HandoverForm()
    form.new_worker_id.choices = [SelectChoice(i, n) for i, n in choices]
    return form.new_worker_id


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
@role_required(Role.STAFF)
def edit(client_id: int):
    form = ClientEditForm()
    if request.method == "GET":
        client = services.lookup_client(request_user(), client_id)
        form = ClientEditForm(obj=client)
        form.personal_identity_code.data = ""
    return _staff_form_page(client_id, "client details", form, "clients/edit.html",
                            lambda client: services.update_client(request_user(), client.id, _form_data(form)),
                            _("The client's details were saved."))


@bp.post("/<int:client_id>/consent")
@role_required(Role.STAFF)
def consent(client_id: int):
    form = ConsentForm()
    given = form.consent.data == "yes"
    return _button(form, lambda: services.set_consent(request_user(), client_id, given, form.note.data),
                   _("Consent recorded.") if given else
                   _("Withdrawal of consent recorded. No new orders can be placed for the client."),
                   _detail_url(client_id))


@bp.post("/<int:client_id>/handover")
@role_required(Role.STAFF)
def handover(client_id: int):
    form = HandoverForm()
    form.new_worker_id.choices = services.staff_choices()
    return _button(form, lambda: services.hand_over_client(request_user(), client_id, form.new_worker_id.data),
                   _("The client was handed over. Their open follow-ups moved to the new worker and the client is "
                     "told."), _detail_url(client_id))


@bp.route("/<int:client_id>/network/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def network_new(client_id: int):
    form = NetworkMemberForm()
    return _staff_form_page(client_id, "network", form, "clients/network_form.html",
                            lambda client: services.add_network_member(request_user(), client.id, _form_data(form)),
                            _("Added to the client's network."), "network-h")


def _end_button(model, row_id: int, action, success: str, anchor: str):
    """End a row of the client's record (a network member, a relative's access)."""
    row = db.session.get(model, row_id) or abort(404)
    return _button(None, lambda: action(request_user(), row_id), success, _detail_url(row.client_id, anchor))


@bp.post("/network/<int:member_id>/end")
@role_required(Role.STAFF)
def network_end(member_id: int):
    return _end_button(NetworkMember, member_id, services.end_network_member, _("Marked as ended today."),
                       "network-h")


@bp.route("/<int:client_id>/relatives/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def relative_new(client_id: int):
    form = RepresentativeForm()
    return _staff_form_page(
        client_id, "relatives acting for the client", form, "clients/relative_form.html",
        lambda client: services.add_representative(request_user(), client.id, email=form.email.data, name=form.name.data,
                                                   relationship=form.relationship.data or "",
                                                   client_consents=bool(form.client_consents.data),
                                                   scopes=form.scopes.data or [], valid_from=form.valid_from.data,
                                                   valid_until=form.valid_until.data),
        _("The relative can now act for the client. They get an e-mail with a link to log in."), "relatives-h")


@bp.route("/relatives/<int:representative_id>/edit", methods=["GET", "POST"])
@role_required(Role.STAFF)
def relative_edit(representative_id: int):
    """Staff change what a relative may do for the client and for how long."""
    rep = db.session.get(ClientRepresentative, representative_id)
    if rep is None or rep.ended_at is not None:
        abort(404)
    form = MandateForm(obj=None) if request.method == "POST" else MandateForm(
        data={"scopes": rep.scopes, "valid_from": rep.valid_from, "valid_until": rep.valid_until})
    return _staff_form_page(
        rep.client_id, "relatives acting for the client", form, "clients/mandate_form.html",
        lambda client: services.update_mandate(request_user(), rep.id, scopes=form.scopes.data or [],
                                               valid_from=form.valid_from.data, valid_until=form.valid_until.data),
        _("The relative's mandate was changed. It applies from their next page."), "relatives-h", rep=rep)


@bp.post("/relatives/<int:representative_id>/end")
@role_required(Role.STAFF)
def relative_end(representative_id: int):
    return _end_button(ClientRepresentative, representative_id, services.end_representative,
                       _("The relative can no longer act for the client."), "relatives-h")


@bp.post("/<int:client_id>/login")
@role_required(Role.STAFF)
def give_login(client_id: int):
    form = LoginForm()
    return _button(form, lambda: services.give_client_login(request_user(), client_id, form.email.data),
                   _("The client gets an e-mail with a link to choose a password."),
                   _detail_url(client_id, "relatives-h"))


@bp.post("/follow-ups/<int:follow_up_id>/done")
@role_required(Role.STAFF)
def follow_up_done(follow_up_id: int):
    follow = db.session.get(FollowUp, follow_up_id) or abort(404)
    form = FollowUpDoneForm()
    to_dashboard = request.form.get("back") == "dashboard"
    return _button(form, lambda: services.complete_follow_up(request_user(), follow_up_id, form.note.data),
                   _("Follow-up marked done."),
                   url_for("core.dashboard") if to_dashboard else _detail_url(follow.client_id, "follow-ups-h"))


@bp.post("/concerns/<int:concern_id>/acknowledge")
@role_required(Role.STAFF)
def concern_acknowledge(concern_id: int):
    concern = db.session.get(Concern, concern_id) or abort(404)
    back = {"order": url_for("orders.detail", order_id=concern.order_id) if concern.order_id else None,
            "dashboard": url_for("core.dashboard")}.get(request.form.get("next", "")) \
        or _detail_url(concern.client_id, "follow-ups-h")
    return _button(None, lambda: concerns.acknowledge_concern(request_user(), concern_id),
                   _("Concern acknowledged: it will not be escalated."), back)


@bp.post("/<int:client_id>/messages")
@role_required(Role.STAFF)
def staff_message(client_id: int):
    form = MessageForm()
    form.to.choices = [("client", "client")]
    return _button(form, lambda: services.send_message(request_user(), client_id, form.body.data, to="client"),
                   _("Message sent. The client is told by e-mail that they have a new message."),
                   _detail_url(client_id, "messages-h"))


@bp.post("/<int:client_id>/retention/keep")
@role_required(Role.STAFF)
def retention_keep(client_id: int):
    form = ReasonForm()
    return _button(form, lambda: services.keep_client_record(request_user(), client_id, form.reason.data),
                   _("The record is kept; the retention period starts again."), _detail_url(client_id))


@bp.post("/<int:client_id>/erasure/decline")
@role_required(Role.STAFF)
def erasure_decline(client_id: int):
    form = ReasonForm()
    return form_action(form, lambda: services.decline_erasure(request_user(), client_id, form.reason.data),
                       success=_("The erasure request was declined. The client can read your reason in Kotiapu."),
                       next_url=_detail_url(client_id),
                       confirm=lambda: Confirmation(
                           title=_("Decline the client's request to erase their data?"),
                           consequences=[_("The record is kept."),
                                         _("The client is told and reads your reason: %(reason)s",
                                           reason=form.reason.data), _("This cannot be undone.")],
                           button=_("Yes, decline the request"), back=_detail_url(client_id)))


@bp.post("/<int:client_id>/erase")
@role_required(Role.STAFF)
@recent_auth_required
def erase(client_id: int):
    def confirm() -> Confirmation:
        client = services.lookup_client(request_user(), client_id)
        return Confirmation(
            title=_("Erase the personal data of %(name)s?", name=client.full_name),
            consequences=[_("The name, identity code, address, phone, e-mail and notes are erased."),
                          _("Logins of the client and relatives stop working."),
                          _("Statistics are kept under a pseudonym."),
                          _("This cannot be undone.")],
            button=_("Yes, erase the personal data"), back=_detail_url(client_id))

    return form_action(None, lambda: services.erase_client(request_user(), client_id),
                       success=_("The client's personal data was erased. Statistics are kept under a pseudonym."),
                       next_url=url_for("clients.search"), back=_detail_url(client_id), confirm=confirm)


@bp.get("/<int:client_id>/export.json")
@role_required(Role.STAFF)
@recent_auth_required
def staff_export(client_id: int):
    return _json_download(queries.export_client_data(request_user(), client_id), f"kotiapu-client-{client_id}.json")


def _json_download(data: dict, filename: str) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


# -- staff: access log and guidance contacts -------------------------------------

@bp.get("/access-log")
@role_required(Role.STAFF)
def access_log():
    form = AccessLogFilterForm(formdata=None)
    form.process(request.args)
    form.validate()
    cursor = query_int("cursor")
    client = None
    if bounded_id(form.client_id.data):
        client = services.get_client(request_user(), form.client_id.data, Purpose.GUIDANCE, what="access log")
    rows = queries.search_access_log(
        cursor, client_id=client.id if client else None, actor_text=(form.actor.data or "").strip() or None,
        action=form.action.data or None, since=form.since.data if not form.since.errors else None,
        until=form.until.data if not form.until.errors else None)
    has_next = len(rows) > queries.PAGE_SIZE
    rows = rows[:queries.PAGE_SIZE]
    if client is None:
        record_access_many([r.client_id for r in rows if getattr(r, "client_row", None) is not None
                            and r.client_row.erased_at is None],
                           "list", Purpose.GUIDANCE, what="name in access-log search")
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    next_url = url_for("clients.access_log", cursor=rows[-1].id, **args) if has_next and rows else None
    return render_template("clients/access_log.html", form=form, rows=rows, client=client, next_url=next_url,
                           action_label=queries.staff_action_label, what_label=queries.staff_what_label,
                           purpose_label=queries.staff_purpose_label, channel_label=queries.channel_label)


@bp.route("/guidance-contacts", methods=["GET", "POST"])
@role_required(Role.STAFF)
def guidance_contacts():
    form = GuidanceContactForm()
    filters = GuidanceFilterForm(formdata=None)
    filters.process(request.args)
    filters.validate()
    client_id = query_int("client_id") if request.method == "GET" else bounded_id(form.client_id.data)
    if request.method == "GET" and client_id:
        form.client_id.data = client_id

    def page(status: int = 200):
        client = db.session.get(Client, client_id) if client_id else None
        logged = set()
        if client is not None and client.erased_at is None:
            record_access(client.id, "view", Purpose.GUIDANCE, what="name for a guidance contact")
            logged.add(client.id)
        else:
            client = None
        # Choosing the client: search by name (or birth date as typed), then choose
        # from the list; plain links, so it works without JavaScript.
        find = (request.args.get("find") or "").strip()[:100]
        found = services.search_clients(request_user(), find, limit=20) if find and client is None else None
        rows, summary = services.guidance_contacts(
            request_user(), since=filters.since.data if not filters.since.errors else None,
            until=filters.until.data if not filters.until.errors else None, channel=filters.channel.data or None,
            topic=filters.topic.data or None, mine=bool(filters.mine.data), logged=logged)
        return render_template("clients/guidance_contacts.html", form=form, filters=filters, rows=rows,
                               summary=summary, client=client, topic_labels=TOPIC_LABELS, find=find,
                               found=found), status

    if request.method == "POST":
        return form_action(
            form, lambda: services.log_guidance_contact(
                request_user(), channel=form.channel.data, topic=form.topic.data, outcome=form.outcome.data or "",
                referral=form.referral.data, municipality=form.municipality.data, minutes=form.minutes.data,
                client_id=form.client_id.data or None),
            success=_("Guidance contact logged."),
            next_url=_detail_url(form.client_id.data, "contacts-h") if form.client_id.data
            else url_for("clients.guidance_contacts"),
            render=page)
    return page()


# -- the client's own pages (the client or a relative acting for them) -----------

def _portal_client(what: str, scope: str | None = MandateScope.SERVICES) -> Client | None:
    """The client whose page this is, the read logged with the user as the actor
    (a relative's read names both persons); a relative's mandate must cover
    ``scope`` (PermissionDenied, a 403 page saying so, otherwise)."""
    user = request_user()
    client_id = current_client_id(user)
    if client_id is None:
        return None
    return services.client_for_portal(user, client_id, what=what, scope=scope)


def _no_client():
    return render_template("clients/no_client.html"), 200


def _portal_page(template: str, client: Client, **context):
    """A page of the client portal. ``own``: the user looks at their own record; a
    relative acting for the client is addressed as themselves, the client named."""
    user = request_user()
    context.setdefault("own", policy.is_own_record(user, client.id))
    return render_template(template, client=client, several=acts_for_several(user), **context)


@bp.get("/me/choose")
@role_required(Role.CLIENT)
def choose():
    clients = queries.acting_clients(request_user())
    for c in clients:
        record_access(c.id, "list", policy.client_side_purpose(request_user(), c.id),
                      what="name in the list of whose services")
    return render_template("clients/choose.html", clients=clients, current_id=current_client_id(request_user()))


@bp.get("/me/network")
@role_required(Role.CLIENT)
def my_network():
    client = _portal_client("my network")
    if client is None:
        return _no_client()
    return _portal_page("clients/my_network.html", client, entries=queries.network(client, include_ended=False))


@bp.get("/me/access-log")
@role_required(Role.CLIENT)
def my_access_log():
    client = _portal_client("access log")
    if client is None:
        return _no_client()
    cursor = query_int("cursor")
    rows = queries.access_log(client.id, cursor)
    has_next = len(rows) > queries.PAGE_SIZE
    rows = rows[:queries.PAGE_SIZE]
    next_url = url_for("clients.my_access_log", cursor=rows[-1].id, client=client.id) if has_next and rows else None
    user = request_user()
    own = policy.is_own_record(user, client.id)
    return _portal_page("clients/my_access_log.html", client, rows=rows, next_url=next_url,
                        log_line=lambda row: queries.portal_log_line(row, user, own))


def _client_message_form(client: Client) -> MessageForm:
    form = MessageForm()
    choices = []
    user = request_user()
    if client.responsible_worker_id:
        worker = client.responsible_worker
        choices.append(("worker", queries.worker_recipient_label(user, client, worker)))
    # The services are named only to those whose mandate covers seeing them.
    orders = queries.client_services(user, client.id) \
        if policy.acts_for(user, client.id, MandateScope.SERVICES) else {"active": [], "past": []}
    for item in orders["active"] + [s for s in orders["past"] if s.order.status == "completed"]:
        if item.order.provider_id is not None:
            choices.append((f"provider:{item.order.id}", _("%(provider)s (%(service)s)", provider=item.order.provider_name,
                                                           service=item.order.service)))
    form.to.choices = choices
    return form


def _send_client_message(client: Client, form: MessageForm):
    to, _sep, order_id = (form.to.data or "").partition(":")
    return services.send_message(request_user(), client.id, form.body.data, to=to,
                                 order_id=int(order_id) if order_id.isdigit() else None)


@bp.route("/me/messages", methods=["GET", "POST"])
@role_required(Role.CLIENT)
def my_messages():
    client_id = current_client_id(request_user())
    if client_id is None:
        return _no_client()

    def page(form: MessageForm, status: int = 200):
        # Something was wrong on a POST: the page is shown again with the typed text kept.
        client = services.client_for_portal(request_user(), client_id, what="messages", scope=MandateScope.MESSAGES)
        if request.method == "GET":
            services.mark_messages_read(request_user(), client.id)
        return _portal_page("clients/my_messages.html", client, form=form,
                            messages=queries.client_messages(client.id), sender_label=queries.sender_label), status

    if request.method == "POST":
        client = services.lookup_portal_client(request_user(), client_id, MandateScope.MESSAGES)
        form = _client_message_form(client)
        return form_action(form, lambda: _send_client_message(client, form),
                           success=_("Your message was sent. You will get an answer here; we also tell you by e-mail."),
                           next_url=url_for("clients.my_messages", client=client.id),
                           render=lambda status: page(form, status))
    return page(_client_message_form(services.lookup_portal_client(request_user(), client_id, MandateScope.MESSAGES)))


@bp.get("/me/mandates")
@role_required(Role.CLIENT)
def my_mandates():
    """Who may act for the client, with what scopes and for how long; the client
    themselves can revoke. A relative sees their own mandate here."""
    client = _portal_client("relatives acting for the client", scope=None)
    if client is None:
        return _no_client()
    user = request_user()
    own = policy.is_own_record(user, client.id)
    mandates = queries.mandates_of_client(client.id, None if own else user.id)
    return _portal_page("clients/my_mandates.html", client, own=own, mandates=mandates, today=local_today(),
                        scopes=policy.mandate_scopes(user, client.id))


@bp.post("/me/mandates/<int:representative_id>/revoke")
@role_required(Role.CLIENT)
def my_mandate_revoke(representative_id: int):
    rep = db.session.get(ClientRepresentative, representative_id)
    back = url_for("clients.my_mandates", client=rep.client_id) if rep is not None else url_for("clients.my_mandates")
    return _button(None, lambda: services.revoke_mandate(request_user(), representative_id),
                   _("The mandate was revoked. The relative can no longer act for you."), back)


@bp.get("/me/data")
@role_required(Role.CLIENT)
def my_data():
    client = _portal_client("my data")
    if client is None:
        return _no_client()
    user = request_user()
    return _portal_page(
        "clients/my_data.html", client, own=policy.is_own_record(user, client.id),
        show_contact=policy.shows_contact(client, user), actions=policy.portal_actions(user, client),
        form=ErasureRequestForm(), declined=queries.latest_event(client.id, ClientEventAction.ERASURE_DECLINED))


@bp.get("/me/data/export.json")
@role_required(Role.CLIENT)
def my_export():
    client_id = current_client_id(request_user())
    if client_id is None:
        abort(404)
    return _json_download(queries.export_client_data(request_user(), client_id), "kotiapu-my-data.json")


@bp.post("/me/data/erasure")
@role_required(Role.CLIENT)
def my_erasure_request():
    client_id = current_client_id(request_user())
    if client_id is None:
        abort(404)
    form = ErasureRequestForm()
    return _button(form, lambda: services.request_erasure(request_user(), client_id, form.reason.data),
                   _("Your request was sent. Your guidance worker will decide and tell you."),
                   url_for("clients.my_data", client=client_id))


# -- messages kept with an order (the order page shows the thread) -------------

@bp.post("/orders/<int:order_id>/messages")
@role_required(Role.CLIENT, Role.STAFF, Role.PROVIDER)
def order_message(order_id: int):
    order = visible_order(request_user(), order_id)
    form = MessageForm()
    form.to.choices = [("provider", "provider"), ("worker", "worker"), ("client", "client")]
    back = url_for("orders.detail", order_id=order.id, _anchor="messages-h")
    # A refused message is shown again in place on the order page (orders registers it),
    # with what was written and the error at its field.
    order_page = current_app.extensions.get("kotiapu.order_page")
    render = (lambda status: order_page(order.id, status, message_form=form)) if order_page else None
    return form_action(form, lambda: services.send_message(request_user(), order.client_id, form.body.data,
                                                           to=form.to.data, order_id=order.id),
                       success=_("Message sent."), next_url=back, render=render, back=back, refusals_go_back=True)


# -- choosing a password from an invitation --------------------------------------

@bp.route("/access/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    user = services.user_for_invitation(token)
    form = SetPasswordForm()
    if request.method == "POST":
        return form_action(
            form, lambda: services.accept_invitation(token, form.password.data),
            success=_("Your password is saved. Log in with your e-mail address and the password."),
            next_url=url_for("accounts.login"),
            render=lambda status: (render_template("clients/set_password.html", form=form, email=user.email), status))
    return render_template("clients/set_password.html", form=form, email=user.email)
