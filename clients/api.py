"""Client API (API.md "Clients"): ``POST /clients``, ``GET /clients/{id}``,
``GET /clients/{id}/access-log`` and ``GET /clients/{id}/export``. Thin routes over
the client services and ``clients.queries``, with the rules of
``clients.policy`` and the JSON of ``clients.serializers``; a client-role user (the client or a
relative acting for them) reaches only the clients they may act for, anything
else is 404."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from flask_babel import gettext as _
from pydantic import Field

from accounts.models import Role
from clients import policy, queries
from clients.records import create_client, get_client
from clients.serializers import access_entry_json, client_json
from core.api import Body, Out, Page, Paging, answer, api_user, page_json, route
from core.bounds import IsoDate, Language, PostalCode, Text
from core.errors import NotFoundError

TAGS = ("Clients",)
SEGMENTS = ("independent", "guidance", "intensive")


class ClientIn(Body):
    first_name: Text(100)
    last_name: Text(100)
    birth_date: IsoDate | None = None
    personal_identity_code: Text(11) | None = Field(None, description="Henkilötunnus; checksum-validated, only "
                                                                      "ever returned masked")
    address: Text(300)
    postal_code: PostalCode
    municipality: Text(100)
    phone: Text(40) | None = None
    email: Text(254) | None = None
    languages: list[Language] = Field(["fi"], max_length=10)
    consent_to_share: bool = False
    segment: Literal[SEGMENTS] | None = None  # type: ignore[valid-type]
    non_disclosure: bool = False


class ClientOut(Out):
    """The client (identity code masked)"""

    id: int
    first_name: str
    last_name: str
    birth_date: date | None
    personal_identity_code: str | None = Field(description="Masked")
    address: str | None
    postal_code: str
    municipality: str
    phone: str | None
    email: str | None
    languages: list[str]
    consent_to_share: bool
    segment: str | None
    non_disclosure: bool
    responsible_worker_id: int | None


class Actor(Out):
    id: int | None
    name: str
    role: str | None


class AccessEntry(Out):
    at: datetime
    actor: Actor
    action: str
    purpose: str | None
    what: str | None
    channel: str | None


class Export(Out):
    """Everything held on the client: `client`, `tables` (every table referring to the client, their orders or
    purchases) and `names`"""

    client: dict[str, Any]


@route("POST", "/clients", "Register a client (the caller becomes the responsible worker)", roles=(Role.STAFF,),
       body=ClientIn, tags=TAGS, responses={201: ClientOut},
       errors={409: "Identity code already registered",
               422: "Invalid fields, or invalid_personal_identity_code"})
def create(body: ClientIn):
    client = create_client(api_user(), body.model_dump())
    return answer(client_json(client, api_user()), 201)


@route("GET", "/clients/<int:client_id>", "A client (writes an access-log row)", roles=(Role.STAFF, Role.CLIENT),
       tags=TAGS, responses={200: ClientOut})
def get(client_id: int):
    user = api_user()
    client = get_client(user, client_id, policy.read_purpose(user, client_id))
    return answer(client_json(client, user))


@route("GET", "/clients/<int:client_id>/access-log", "Who has read or changed the client's data, newest first "
       "(writes an access-log row)", roles=(Role.STAFF, Role.CLIENT), query=Paging, tags=TAGS,
       responses={200: Page[AccessEntry]})
def access_log(client_id: int, query: Paging):
    user = api_user()
    client = get_client(user, client_id, policy.read_purpose(user, client_id), what="access log")
    rows = queries.access_log(client.id, query.cursor, query.limit)
    return answer(page_json([access_entry_json(r) for r in rows], rows, query.limit, "api.access_log",
                            client_id=client.id))


@route("GET", "/clients/<int:client_id>/export", "All data held on the client, as JSON (writes an access-log row)",
       roles=(Role.STAFF, Role.CLIENT), tags=TAGS, responses={200: Export},
       errors={403: "A relative: only the client themselves can export"})
def export(client_id: int):
    user = api_user()
    if user.role == Role.CLIENT and not policy.acts_for(user, client_id):
        raise NotFoundError(_("Client not found."))
    response = answer(queries.export_client_data(user, client_id))
    response.headers["Cache-Control"] = "no-store"
    return response
