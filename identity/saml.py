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
- ``/saml/metadata`` serves our SP metadata (entity id, ACS, signing and
  encryption certificate) for registering with the IdP.

Single logout is not implemented yet (docs/identity.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import current_app
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
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
            "endpoints": {"assertion_consumer_service": [(base + "/saml/acs", BINDING_HTTP_POST)]},
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


def read_response(saml_response: str, outstanding: dict) -> dict:
    """The verified attributes of a Response, or an exception from pysaml2."""
    result = sp().parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=outstanding)
    if result is None:
        raise ValueError("no response")
    return result.ava


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
