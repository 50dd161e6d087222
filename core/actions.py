"""The one way a web view runs a POSTed action, and its API counterpart.

``form_action`` does for every form what each package once wrote by hand:
validate the form, make one service call, map a refusal (``DomainError``) to the
form's fields or a message, and redirect after a success (POST-redirect-GET). It
never commits: the request's unit of work (``core.uow``) does, once the response is
known. A refused action's writes are thrown away at once, so the page shown again
reads the state before it; the access-log rows of what the page shows are kept.

Two ways to show a refusal:

- ``render`` given (a page with the form): the page is rendered again with what was
  typed, the errors next to their fields and the status of the error (422 for an
  invalid form, the refusal's own status otherwise);
- no ``render`` (a button on another page): the errors are flashed and the user is
  sent back to ``back`` (or ``next_url``).

Irreversible actions (complete, cancel, decline, close, erase, refund, suspend,
reject) ask again: ``form_action(..., confirm=lambda: Confirmation(...))`` answers
the first POST with a confirmation page rendered on the server (``core/confirm.html``:
what will happen, the posted values carried in hidden fields, the fields that
must still be filled in, "Yes, …" and "Go back"); only the second POST, which
carries ``confirmed=yes``, runs the action. It needs no JavaScript.

The API needs no helper of its own: its routes call the service and return the
body; a ``DomainError`` becomes API.md's error shape in ``core.errors``, and the
unit of work rolls back every response of 400 or more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request

from core.errors import DomainError
from core.uow import undo_changes


CONFIRMED = "confirmed"


@dataclass
class Confirmation:
    """The second step of an irreversible action.

    ``title``: the question ("Complete order SO-…?"); ``consequences``: what will
    happen, one sentence each; ``button``: the label of the confirming button;
    ``back``: where "Go back" leads; ``ask``: names of the form's fields shown (and
    editable) on the confirmation page, e.g. a reason that is required here;
    ``notice``: a warning shown above the consequences (e.g. "This order is
    ongoing"); ``danger``: style the button as destructive."""

    title: str
    consequences: list[str]
    button: str
    back: str
    ask: list[str] = field(default_factory=list)
    notice: str | None = None
    danger: bool = True


def is_confirmed() -> bool:
    return request.form.get(CONFIRMED) == "yes"


def confirmation_page(form, confirmation: Confirmation, status: int = 200):
    """The confirmation step: the posted values carried in hidden fields (except
    the fields asked again and the CSRF token, rendered fresh)."""
    asked = [form[name] for name in confirmation.ask if form is not None and name in form]
    skip = {CONFIRMED, *(f.name for f in asked)}
    # CSRF tokens are rendered fresh (the form's own, prefixed or not), never carried.
    carried = [(k, v) for k, values in request.form.lists()
               if k not in skip and not k.endswith("csrf_token") for v in values]
    action = request.full_path if request.query_string else request.path  # e.g. a guest buyer's ?token=
    return render_template("core/confirm.html", confirmation=confirmation, carried=carried, asked=asked,
                           action=action, form=form), status


def put_errors_on_form(form, exc: DomainError, aliases: dict[str, str] | None = None) -> bool:
    """Put a refusal's field errors on the form's fields. True if every error
    found its field; otherwise the caller shows the message."""
    if form is None or not exc.fields:
        return False
    placed = True
    for name, messages in exc.fields.items():
        key = (aliases or {}).get(name, name)
        if key in form:
            form[key].errors = list(form[key].errors) + [str(m) for m in messages]
        else:
            placed = False
    return placed


def _flash_form_errors(form) -> None:
    for name, messages in form.errors.items():
        for message in messages:
            label = getattr(form[name], "label", None) if name in form else None
            text = getattr(label, "text", "") if label is not None else ""
            flash(f"{text}: {message}" if text else str(message), "error")


def _flash_refusal(exc: DomainError) -> None:
    extra = " ".join(" ".join(str(m) for m in messages) for messages in (exc.fields or {}).values())
    flash(f"{exc.message} {extra}".strip(), "error")


def form_action(form, action: Callable[[], Any], *, success: str | Callable[[Any], str] | None = None,
                next_url: str | Callable[[Any], str], render: Callable[[int], Any] | None = None,
                back: str | None = None, aliases: dict[str, str] | None = None, validate: bool = True,
                code: int = 302, refusals_go_back: bool = False, confirm: Callable[[], Confirmation] | None = None):
    """Run ``action()`` for a POSTed ``form`` (or a bare button: ``form=None``).

    ``next_url`` (a URL, or a function of the action's result) is where a success
    redirects (with ``code``: 302, or 303 See Other); ``success`` the message
    flashed then. ``render(status)`` shows the form's page again; without it
    refusals are flashed and the user goes ``back``. With ``refusals_go_back`` the
    page is shown again only for invalid input (422); a refusal that is not about
    the input is flashed and the user goes ``back``. A refusal with status 404 is a
    missing page, not a message.

    ``confirm`` (a function returning a ``Confirmation``): an irreversible action.
    A valid first POST gets the confirmation page; only a POST with
    ``confirmed=yes`` runs the action, and a refusal of its input (422) shows the
    confirmation page again with the errors on the fields asked there.
    """
    if form is not None and validate and not form.validate():
        if confirm is not None and is_confirmed():
            return confirmation_page(form, confirm(), 422)
        if render is not None:
            return render(422)
        _flash_form_errors(form)
        return redirect(back or (next_url if isinstance(next_url, str) else "/"))
    if confirm is not None and not is_confirmed():
        return confirmation_page(form, confirm())
    try:
        result = action()
    except DomainError as exc:
        undo_changes()
        if exc.status == 404:
            abort(404)
        if confirm is not None and exc.status == 422 and exc.fields and render is None:
            asked = confirm()
            if form is not None and all(name in asked.ask for name in exc.fields):
                put_errors_on_form(form, exc, aliases)
                return confirmation_page(form, asked, 422)
        if render is not None and not (refusals_go_back and back and exc.status != 422):
            if not put_errors_on_form(form, exc, aliases):
                flash(exc.message, "error")
            return render(exc.status)
        _flash_refusal(exc)
        return redirect(back or (next_url if isinstance(next_url, str) else "/"))
    if success:
        flash(success(result) if callable(success) else success, "success")
    return redirect(next_url(result) if callable(next_url) else next_url, code=code)
