"""Staff pages for finding and registering clients, and the client record."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.models import Role
from accounts.permissions import role_required
from clients import bp
from clients.forms import ClientForm, ClientSearchForm
from clients.services import create_client, get_client, search_clients
from core.access import Purpose
from core.errors import DomainError
from core.extensions import db
from core.templating import render_then_commit
from orders.models import ServiceOrder


@bp.get("/")
@role_required(Role.STAFF)
def search():
    form = ClientSearchForm(formdata=None)
    from flask import request

    form.process(request.args)
    results = None
    if any(request.args.get(k) for k in ("q", "birth_date", "postal_code")) and form.validate():
        results = search_clients(current_user, form.q.data or "", form.birth_date.data, form.postal_code.data or None)
    return render_then_commit("clients/search.html", form=form, results=results)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new():
    form = ClientForm()
    status = 200
    if form.validate_on_submit():
        data = {name: form[name].data for name in form.data if name != "csrf_token"}
        try:
            client = create_client(current_user, data)
        except DomainError as exc:
            db.session.rollback()
            for name, messages in (exc.fields or {}).items():
                if name in form:
                    form[name].errors = list(form[name].errors) + list(messages)
            if not exc.fields:
                flash(exc.message, "error")
            status = exc.status
        else:
            db.session.commit()
            flash(_("Client registered. You are their responsible worker."), "success")
            return redirect(url_for("clients.detail", client_id=client.id))
    elif form.is_submitted():
        status = 422
    return render_template("clients/new.html", form=form), status


@bp.get("/<int:client_id>")
@role_required(Role.STAFF)
def detail(client_id: int):
    client = get_client(current_user, client_id, Purpose.GUIDANCE)
    orders = db.session.scalars(
        sa.select(ServiceOrder).where(ServiceOrder.client_id == client.id)
        .options(sa.orm.joinedload(ServiceOrder.service_type), sa.orm.joinedload(ServiceOrder.provider))
        .order_by(ServiceOrder.created_at.desc()).limit(100)).all()
    return render_then_commit("clients/detail.html", client=client, orders=orders)
