"""The SAML 2.0 service provider (pysaml2): Suomi.fi e-Identification's interface
today. Enabled when ``SAML_IDP_METADATA`` names the identity provider's metadata
(a file, or an http(s) address).

- ``/login/saml`` sends a signed AuthnRequest (HTTP-Redirect binding); its id is
  kept in the browser's session as the one outstanding request;
- ``/saml/acs`` takes the Response (HTTP-POST binding) and ``/saml/complete``
  finishes the login in the browser that started it (views.py). pysaml2 checks the
  signature of the assertion against the IdP's certificate from its metadata,
  decrypts an encrypted assertion with our key, checks the audience, the
  destination, the validity window and that the response answers the outstanding
  request (unsolicited responses are refused; a response works once, because the
  outstanding id, kept in Redis, is spent on first use);
- ``/saml/metadata`` serves our SP metadata (entity id, ACS, single logout
  service, signing and encryption certificate) for registering with the IdP;
- ``/saml/slo`` is the single logout service (HTTP-Redirect and HTTP-POST): it
  takes the IdP's LogoutRequest (signature required, checked against the IdP's
  metadata) and ends the Kotiapu sessions of that NameID/SessionIndex, and the
  IdP's LogoutResponse to a logout we started (views.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import current_app
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2 import request as saml_request
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.ident import code, decode
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_TRANSIENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

OUTSTANDING_KEY = "saml_outstanding"
REQUEST_SECONDS = 600  # how long an AuthnRequest waits for its answer
# Attribute names as Suomi.fi sends them (URIs), not pysaml2's friendly names.
ATTRIBUTE_MAPS = str(Path(__file__).resolve().parent / "saml_attributes")


def enabled() -> bool:
    return bool(current_app.config.get("SAML_IDP_METADATA"))


def _sp_config() -> dict:
    config = current_app.config
    base = config["BASE_URL"].rstrip("/")
    source = config["SAML_IDP_METADATA"]
    metadata = ({"remote": [{"url": source}]} if source.startswith(("http://", "https://"))
                else {"local": [source]})
    return {
        "entityid": config.get("SAML_SP_ENTITY_ID") or base + "/saml/metadata",
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(base + "/saml/acs", BINDING_HTTP_POST)],
                          "single_logout_service": [(base + "/saml/slo", BINDING_HTTP_REDIRECT),
                                                    (base + "/saml/slo", BINDING_HTTP_POST)]},
            "allow_unsolicited": False,
            "authn_requests_signed": True,
            "want_assertions_signed": True,
            "want_response_signed": False,
            "name_id_format": NAMEID_FORMAT_TRANSIENT,
            "allow_unknown_attributes": True,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
        }},
        "key_file": config["SAML_SP_KEY_FILE"],
        "cert_file": config["SAML_SP_CERT_FILE"],
        "encryption_keypairs": [{"key_file": config["SAML_SP_KEY_FILE"], "cert_file": config["SAML_SP_CERT_FILE"]}],
        "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
        "metadata": metadata,
        "accepted_time_diff": 30,
        "attribute_map_dir": ATTRIBUTE_MAPS,
    }


def sp() -> Saml2Client:
    """The service provider, built once per app (the IdP's metadata is read then)."""
    client = current_app.extensions.get("identity_saml")
    if client is None:
        conf = SPConfig()
        conf.load(_sp_config())
        client = Saml2Client(config=conf)
        current_app.extensions["identity_saml"] = client
    return client


def sp_metadata() -> str:
    conf = SPConfig()
    conf.load(_sp_config())
    text = create_metadata_string(None, config=conf)
    return text.decode() if isinstance(text, bytes) else text


def start(relay_state: str = "") -> tuple[str, str]:
    """(request id, the IdP address to send the browser to)."""
    client = sp()
    idp = next(iter(client.metadata.identity_providers()))
    request_id, info = client.prepare_for_authenticate(entityid=idp, relay_state=relay_state,
                                                       binding=BINDING_HTTP_REDIRECT)
    return request_id, dict(info["headers"])["Location"]


def read_response(saml_response: str, outstanding: dict) -> tuple[dict, dict]:
    """The verified attributes of a Response and the subject of its session
    (``name_id``: the NameID encoded with pysaml2's ``ident.code``,
    ``session_index``), or an exception from pysaml2."""
    result = sp().parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=outstanding)
    if result is None:
        raise ValueError("no response")
    info = result.session_info()
    name_id = info.get("name_id")
    return result.ava, {"name_id": code(name_id) if name_id is not None else None,
                        "session_index": info.get("session_index"), "issuer": info.get("issuer")}


# -- single logout -------------------------------------------------------------------

def _idp_slo(binding: str = BINDING_HTTP_REDIRECT) -> tuple[str, str] | None:
    """(IdP entity id, its single logout address for ``binding``), or None."""
    client = sp()
    idp = next(iter(client.metadata.identity_providers()))
    services = client.metadata.single_logout_service(entity_id=idp, typ="idpsso").get(binding) or []
    for service in services:
        if service.get("location"):
            return idp, service["location"]
    return None


def slo_origin() -> str | None:
    """The scheme and host of the IdP's single logout service (for the CSP)."""
    from urllib.parse import urlsplit

    target = _idp_slo()
    if target is None:
        return None
    parts = urlsplit(target[1])
    return f"{parts.scheme}://{parts.netloc}"


def logout_request(subject: dict) -> tuple[str, str] | None:
    """A signed LogoutRequest (HTTP-Redirect, RSA-SHA256) for the session
    ``subject`` (from ``read_response``): (its id, the IdP address to send the
    browser to), or None when the IdP has no single logout service."""
    target = _idp_slo()
    if target is None or not subject.get("name_id"):
        return None
    idp, location = target
    client = sp()
    request_id, message = client.create_logout_request(
        location, idp, name_id=decode(subject["name_id"]),
        session_indexes=[subject["session_index"]] if subject.get("session_index") else None, sign=False)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(message), location, "", sign=True, sigalg=SIG_RSA_SHA256)
    return request_id, dict(info["headers"])["Location"]


def read_logout_request(binding: str, message: str, relay_state: str | None, sigalg: str | None,
                        signature: str | None):
    """The IdP's LogoutRequest, its signature required and checked (the query's
    signature for HTTP-Redirect, the XML signature for HTTP-POST) against the
    certificate of the IdP in our metadata, its destination and issue instant
    checked. Raises on anything else."""
    client = sp()
    receivers = client.config.endpoint("single_logout_service", binding, "sp")
    request = saml_request.LogoutRequest(client.sec, receivers, client.config.attribute_converters,
                                         timeslack=client.config.accepted_time_diff or 0)
    xml = client.unravel(message, binding, saml_request.LogoutRequest.msgtype)
    request = request.loads(xml, binding, origdoc=message, must=True, relay_state=relay_state, sigalg=sigalg,
                            signature=signature)
    if not request or not request.verify():
        raise ValueError("logout request not valid")
    issuer = request.message.issuer.text if request.message.issuer is not None else None
    if issuer not in set(client.metadata.identity_providers()):
        raise ValueError("logout request from an unknown issuer")
    return request.message


def logout_response(request_message, success: bool) -> str:
    """The signed LogoutResponse (HTTP-Redirect) answering ``request_message``:
    the IdP address with the response in its query."""
    from saml2.s_utils import status_message_factory, success_status_factory
    from saml2.samlp import STATUS_UNKNOWN_PRINCIPAL

    client = sp()
    status = success_status_factory() if success else status_message_factory("No such session",
                                                                               STATUS_UNKNOWN_PRINCIPAL)
    response = client.create_logout_response(request_message, [BINDING_HTTP_REDIRECT], status=status, sign=False)
    args = client.response_args(request_message, [BINDING_HTTP_REDIRECT])
    info = client.apply_binding(args["binding"], response, args["destination"], "", response=True, sign=True,
                                sigalg=SIG_RSA_SHA256)
    return dict(info["headers"])["Location"]


def read_logout_response(binding: str, message: str) -> tuple[str | None, bool]:
    """(InResponseTo, whether the IdP reports success) of the IdP's LogoutResponse."""
    from saml2.samlp import STATUS_SUCCESS

    response = sp().parse_logout_request_response(message, binding)
    if response is None:
        raise ValueError("no logout response")
    status = response.response.status
    ok = status is not None and status.status_code is not None and status.status_code.value == STATUS_SUCCESS
    return response.in_response_to, ok


def in_response_to(saml_response: str) -> str | None:
    """The InResponseTo of a posted (base64) Response, before any other check."""
    import base64

    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(base64.b64decode(saml_response, validate=False))
    except Exception:  # noqa: BLE001 - not base64 or not XML: no request answered
        return None
    value = root.get("InResponseTo")
    return value[:200] if value else None
