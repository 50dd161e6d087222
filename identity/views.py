"""The strong identification pages: start (to the provider), the callback (back
from it), and the two outcomes that are not a login: a failed identification and a
person with no login here."""

from __future__ import annotations

import logging

from authlib.common.errors import AuthlibBaseError
from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.errors import JoseError
from requests import RequestException

from accounts.login import complete_login
from accounts.models import Role
from clients.models import ClientRepresentative
from clients.services import get_client
from core.access import Purpose
from core.actions import form_action
from core.extensions import csrf, db
from core.roles import role_required
from identity import bp
from identity.forms import IdentityCodeForm, RemoveForm
from identity.oidc import METHOD_KEY, METHOD_OIDC, METHOD_SAML, client
from identity.services import (
    Match, acts_for_someone, apply_mandate_claims, has_link, link_identity_code, match_identity_code,
    unlink_identity_code,
)

log = logging.getLogger(__name__)

NEXT_KEY = "identity_next"


def _safe_next(target: str | None) -> str | None:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.get("/login/strong")
def start():
    """Send the browser to the identity provider (authorization code + PKCE, with
    a new state and nonce kept in this browser's session)."""
    rp = client()
    if rp is None:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    nxt = _safe_next(request.args.get("next"))
    if nxt:
        session[NEXT_KEY] = nxt
    try:
        return rp.authorize_redirect(url_for("identity.callback", _external=True), ui_locales=str(get_locale() or "fi"))
    except (AuthlibBaseError, RequestException, ValueError, KeyError, RuntimeError) as exc:
        log.warning("strong identification could not start: %s", type(exc).__name__)
        return render_template("identity/failed.html", unavailable=True), 503


@bp.get("/login/strong/callback")
def callback():
    """Back from the provider: the code is exchanged for tokens, the ID token is
    verified (signature, iss, aud, exp, nonce; the state was checked first) and
    the identity code in it is matched to a login."""
    rp = client()
    if rp is None:
        abort(404)
    if request.args.get("error"):
        # The person cancelled at the provider, or it refused the request.
        log.info("strong identification returned error %s", request.args.get("error")[:40])
        return render_template("identity/failed.html", cancelled=request.args.get("error") == "access_denied"), 400
    try:
        token = rp.authorize_access_token(leeway=30)
        claims = token.get("userinfo")
        if claims is None:
            raise ValueError("no ID token in the token response")
    except (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError, TypeError, RuntimeError) as exc:
        # The reason's type only: the exception text may quote tokens or claims.
        log.warning("strong identification failed: %s %s", type(exc).__name__, getattr(exc, "error", "") or "")
        return render_template("identity/failed.html"), 400
    mandate_claim = current_app.config.get("OIDC_MANDATE_CLAIM") or ""
    mandates = claims.get(mandate_claim) if mandate_claim else None
    match = match_identity_code(claims.get(current_app.config["OIDC_IDENTITY_CLAIM"]),
                                with_mandate_claims=mandates is not None)
    if match.user is not None and mandates is not None:
        counts = apply_mandate_claims(match.user, mandates)
        log.info("mandate claims of user %s: %s created, %s changed, %s skipped", match.user.id,
                 counts["created"], counts["changed"], counts["skipped"])
        if match.user.client_id is None and not acts_for_someone(match.user.id):
            match = Match(None)
    if match.user is None:
        log.info("strong identification: no login for the identified person")
        return render_template("identity/no_record.html", has_record=match.has_record)
    nxt = session.pop(NEXT_KEY, None)
    g.strong_identification = True
    complete_login(match.user)
    session[METHOD_KEY] = METHOD_OIDC
    log.info("strong identification login of user %s", match.user.id)
    return redirect(_safe_next(nxt) or url_for("core.dashboard"))


# -- staff: a relative's identity code --------------------------------------------

@bp.route("/relatives/<int:representative_id>/identity-code", methods=["GET", "POST"])
@role_required(Role.STAFF)
def relative_code(representative_id: int):
    """Staff link a relative's own identity code to their login (stored as a keyed
    hash, never shown again), so that the relative can log in with strong
    identification; or remove it."""
    rep = db.session.get(ClientRepresentative, representative_id)
    if rep is None or rep.ended_at is not None:
        abort(404)
    client = get_client(current_user, rep.client_id, Purpose.GUIDANCE, what="relative's strong identification")
    form, remove = IdentityCodeForm(prefix="code"), RemoveForm(prefix="remove")
    back = url_for("clients.detail", client_id=client.id, _anchor="relatives")

    def page(status: int):
        return render_template("identity/relative_code.html", rep=rep, client=client, form=form, remove=remove,
                               linked=has_link(rep.user_id), back=back), status

    if request.method == "POST" and request.form.get("form") == "remove":
        return form_action(remove, lambda: unlink_identity_code(rep.user), next_url=back,
                           success=_("The identity code was removed: the relative can no longer log in with strong "
                                     "identification."))
    if request.method == "POST":
        return form_action(form, lambda: link_identity_code(rep.user, form.identity_code.data, current_user),
                           next_url=back, render=page,
                           success=_("The identity code is linked: the relative can log in with strong "
                                     "identification."))
    return page(200)


# -- SAML 2.0 ----------------------------------------------------------------------
#
# The IdP posts its Response cross-site, and the session cookie (SameSite=Lax) does
# not come with that POST. So the outstanding request id lives in Redis as well as in
# the session: /saml/acs checks the response against Redis (spending the id), keeps
# the outcome for two minutes under a random token and redirects to /saml/complete,
# a same-site GET that does carry the cookie; only there, when the session started
# that very request, is anyone logged in.

def _saml_key(kind: str, value: str) -> str:
    return f"identity:saml:{kind}:{value}"


def _take(key: str):
    """GET and DELETE in one transaction (GETDEL needs Redis 6.2)."""
    from core.redis import get_redis

    pipe = get_redis().pipeline()
    pipe.get(key)
    pipe.delete(key)
    value, _deleted = pipe.execute()
    return value


@bp.get("/login/saml")
def saml_start():
    from core.redis import get_redis
    from identity import saml

    if not saml.enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    nxt = _safe_next(request.args.get("next"))
    if nxt:
        session[NEXT_KEY] = nxt
    try:
        request_id, location = saml.start()
        get_redis().set(_saml_key("request", request_id), "1", ex=saml.REQUEST_SECONDS)
    except Exception as exc:  # noqa: BLE001 - metadata or Redis unavailable: a clear page, never a 500
        log.warning("SAML identification could not start: %s", type(exc).__name__)
        return render_template("identity/failed.html", unavailable=True), 503
    session[saml.OUTSTANDING_KEY] = request_id
    return redirect(location)


@bp.post("/saml/acs")
@csrf.exempt  # the IdP posts here; the request id (Redis, then the session at /saml/complete) plays CSRF's part
def saml_acs():
    import json
    import secrets

    from core.redis import get_redis
    from identity import saml

    if not saml.enabled():
        abort(404)
    try:
        saml_response = request.form.get("SAMLResponse", "")
        request_id = saml.in_response_to(saml_response)
        # Spent at once: an unsolicited response finds nothing, a replayed one neither.
        if not request_id or not _take(_saml_key("request", request_id)):
            raise ValueError("no outstanding request")
        attributes, subject = saml.read_response(saml_response, {request_id: "/"})
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many types; the reason's type only is logged
        log.warning("SAML identification failed: %s", type(exc).__name__)
        return render_template("identity/failed.html"), 400
    values = attributes.get(current_app.config["SAML_IDENTITY_ATTRIBUTE"]) or []
    match = match_identity_code(values[0] if values else None)
    token = secrets.token_urlsafe(32)
    get_redis().set(_saml_key("done", token), json.dumps({
        "request_id": request_id, "user_id": match.user.id if match.user else None, "has_record": match.has_record,
        "subject": subject,
    }), ex=120)
    return redirect(url_for("identity.saml_complete", t=token), code=303)


@bp.get("/saml/complete")
def saml_complete():
    import json

    from accounts.models import User
    from identity import saml

    if not saml.enabled():
        abort(404)
    raw = _take(_saml_key("done", (request.args.get("t") or "")[:100]))
    outcome = json.loads(raw) if raw else None
    if outcome is None or session.pop(saml.OUTSTANDING_KEY, None) != outcome["request_id"]:
        # Not the browser that started this identification (or too late, or twice).
        log.warning("SAML identification failed: not this browser's request")
        return render_template("identity/failed.html"), 400
    user = db.session.get(User, outcome["user_id"]) if outcome["user_id"] else None
    if user is None or not user.active:
        log.info("SAML identification: no login for the identified person")
        return render_template("identity/no_record.html", has_record=outcome["has_record"])
    nxt = session.pop(NEXT_KEY, None)
    g.strong_identification = True
    complete_login(user)
    session[METHOD_KEY] = METHOD_SAML
    _remember_saml_session(outcome.get("subject") or {})
    log.info("SAML identification login of user %s", user.id)
    return redirect(_safe_next(nxt) or url_for("core.dashboard"))


@bp.get("/saml/metadata")
def saml_metadata():
    from identity import saml

    if not saml.enabled():
        abort(404)
    try:
        text = saml.sp_metadata()
    except Exception as exc:  # noqa: BLE001 - key or certificate missing: 503, never a crash page
        log.warning("SAML metadata unavailable: %s", type(exc).__name__)
        abort(503)
    return current_app.response_class(text, mimetype="application/samlmetadata+xml")


# -- SAML 2.0 single logout ----------------------------------------------------------
#
# The Kotiapu session (a user_sessions row) that a SAML login opened is remembered in
# Redis with the assertion's NameID and SessionIndex, for as long as a session can
# live: ``identity:saml:session:<row id>`` holds the subject, and
# ``identity:saml:subject:<sha256 of the NameID>`` the row ids of that NameID, so that
# the IdP's LogoutRequest finds the sessions to end (in every browser and worker).

def _subject_key(name_id: str) -> str:
    import hashlib

    return _saml_key("subject", hashlib.sha256(name_id.encode()).hexdigest())


def _remember_saml_session(subject: dict) -> None:
    import json

    from accounts.login import SESSION_KEY
    from accounts.sessions import current_session_id
    from core.redis import get_redis

    row_id = current_session_id(session.get(SESSION_KEY))
    if row_id is None or not subject.get("name_id"):
        return
    seconds = int(current_app.config["SESSION_MAX_HOURS"]) * 3600
    pipe = get_redis().pipeline()
    pipe.set(_saml_key("session", str(row_id)), json.dumps(subject), ex=seconds)
    pipe.sadd(_subject_key(subject["name_id"]), str(row_id))
    pipe.expire(_subject_key(subject["name_id"]), seconds)
    pipe.execute()


def saml_subject_of_this_session() -> dict | None:
    """The NameID and SessionIndex of this browser's SAML session, if it is one."""
    import json

    from accounts.login import SESSION_KEY
    from accounts.sessions import current_session_id
    from core.redis import get_redis

    row_id = current_session_id(session.get(SESSION_KEY))
    if row_id is None:
        return None
    raw = get_redis().get(_saml_key("session", str(row_id)))
    return json.loads(raw) if raw else None


def _end_saml_sessions(name_id: str, session_indexes: list[str]) -> int:
    """End the live Kotiapu sessions of ``name_id`` (only those of the given
    SessionIndexes, when the request names any); how many were ended."""
    import json

    import sqlalchemy as sa

    from accounts.models import UserSession
    from core.db import utcnow
    from core.redis import get_redis

    redis = get_redis()
    ended = 0
    for raw_id in redis.smembers(_subject_key(name_id)):
        row_id = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
        raw = redis.get(_saml_key("session", row_id))
        subject = json.loads(raw) if raw else None
        if subject is None or subject.get("name_id") != name_id:
            redis.srem(_subject_key(name_id), raw_id)
            continue
        if session_indexes and subject.get("session_index") not in session_indexes:
            continue
        result = db.session.execute(
            sa.update(UserSession).where(UserSession.id == int(row_id), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason="saml_logout"), execution_options={"synchronize_session": False})
        ended += result.rowcount or 0
        redis.delete(_saml_key("session", row_id))
        redis.srem(_subject_key(name_id), raw_id)
    return ended


@bp.route("/saml/slo", methods=["GET", "POST"])
@csrf.exempt  # the IdP sends the browser here (a signed request, or the answer to our own request id)
def saml_slo():
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.ident import code as code_name_id

    from identity import saml

    if not saml.enabled():
        abort(404)
    values = request.form if request.method == "POST" else request.args
    binding = BINDING_HTTP_POST if request.method == "POST" else BINDING_HTTP_REDIRECT
    if values.get("SAMLResponse"):
        # The IdP's answer to the logout we started: we are logged out here already.
        try:
            answered, ok = saml.read_logout_response(binding, values["SAMLResponse"])
            if not answered or not _take(_saml_key("logout", answered[:200])):
                raise ValueError("no outstanding logout request")
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises many types; the type only is logged
            log.warning("SAML logout response refused: %s", type(exc).__name__)
            return render_template("identity/failed.html"), 400
        log.info("SAML single logout answered by the identity provider (%s)", "success" if ok else "not success")
        return redirect(url_for("accounts.login"))
    if not values.get("SAMLRequest"):
        abort(400)
    try:
        message = saml.read_logout_request(binding, values["SAMLRequest"], values.get("RelayState"),
                                           values.get("SigAlg"), values.get("Signature"))
        name_id = code_name_id(message.name_id) if message.name_id is not None else None
        if not name_id:
            raise ValueError("no NameID")
        indexes = [index.text for index in (message.session_index or []) if index.text]
    except Exception as exc:  # noqa: BLE001 - a forged, unsigned or malformed request: nobody is logged out
        log.warning("SAML logout request refused: %s", type(exc).__name__)
        return render_template("identity/failed.html"), 400
    ended = _end_saml_sessions(name_id, indexes)
    log.info("SAML single logout from the identity provider ended %s session(s)", ended)
    if ended and session.get(METHOD_KEY) == METHOD_SAML:
        session.clear()
    return redirect(saml.logout_response(message, success=ended > 0))


def start_saml_logout(subject: dict) -> str | None:
    """Our signed LogoutRequest for ``subject``: the IdP address to send the
    browser to (its id kept in Redis for the answer), or None."""
    from core.redis import get_redis
    from identity import saml

    try:
        made = saml.logout_request(subject)
        if made is None:
            return None
        request_id, location = made
        get_redis().set(_saml_key("logout", request_id), "1", ex=saml.REQUEST_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the local logout has happened; the IdP is told when it can be
        log.warning("SAML single logout skipped: %s", type(exc).__name__)
        return None
    return location
