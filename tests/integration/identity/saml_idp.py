"""A SAML 2.0 identity provider for the tests, built from pysaml2's ``Server``
with keys and certificates made at start (cryptography) and its own metadata file.
The browser's part (carrying the AuthnRequest to it, posting its Response back) is
played by the test: with the HTTP-Redirect and HTTP-POST bindings the service
provider never calls the IdP directly, so nothing here needs a socket.

``answer(location, identity_code, ...)`` reads the AuthnRequest from the redirect
address and returns the base64 SAMLResponse a browser would post. Misbehaving on
purpose: ``lifetime_minutes`` (negative: an expired assertion) and ``signing_key``
(sign with a key whose certificate is not in the metadata)."""

from __future__ import annotations

import datetime
import html
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_URI
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_TRANSIENT
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from identity.saml import ATTRIBUTE_MAPS

ENTITY_ID = "http://127.0.0.1/test-idp"


def keypair(folder: Path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


def _config(key_file: str, cert_file: str, lifetime_minutes: int, metadata: dict) -> dict:
    return {
        "entityid": ENTITY_ID,
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(ENTITY_ID + "/sso", BINDING_HTTP_REDIRECT)],
                          "single_logout_service": [(ENTITY_ID + "/slo", BINDING_HTTP_REDIRECT),
                                                    (ENTITY_ID + "/slo", BINDING_HTTP_POST)],
                          # makes pysaml2 keep the assertions it issued (our session store)
                          "assertion_id_request_service": [(ENTITY_ID + "/aidr", BINDING_URI)]},
            "want_authn_requests_signed": True,  # also: our LogoutRequests must be signed
            "name_id_format": [NAMEID_FORMAT_TRANSIENT],
            "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256,
            "policy": {"default": {"lifetime": {"minutes": lifetime_minutes}, "attribute_restrictions": None,
                                   "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}},
        }},
        "key_file": key_file, "cert_file": cert_file,
        "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
        "metadata": metadata,
        "attribute_map_dir": ATTRIBUTE_MAPS,
    }


class LoopbackIdp:
    def __init__(self, folder: Path):
        self.folder = folder
        self.key_file, self.cert_file = keypair(folder, "idp")
        conf = IdPConfig()
        conf.load(_config(self.key_file, self.cert_file, 5, {}))
        text = create_metadata_string(None, config=conf)
        self.metadata_file = folder / "idp-metadata.xml"
        self.metadata_file.write_text(text.decode() if isinstance(text, bytes) else text)
        self.sp_metadata = ""
        self.lifetime_minutes = 5
        self.signing_key: tuple[str, str] | None = None  # (key, cert) to sign with instead of ours
        # The sessions this IdP has opened: {"name_id": NameID, "session_index": str}, newest last.
        self.sessions: list[dict] = []

    def _server(self) -> Server:
        key, cert = self.signing_key or (self.key_file, self.cert_file)
        conf = IdPConfig()
        conf.load(_config(key, cert, self.lifetime_minutes, {"inline": [self.sp_metadata]}))
        return Server(config=conf)

    def answer(self, location: str, identity_code: str, encrypt: bool = True) -> str:
        server = self._server()
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        request = server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT,
                                             relay_state=query.get("RelayState"), sigalg=query.get("SigAlg"),
                                             signature=query.get("Signature")).message
        response = server.create_authn_response(
            {"urn:oid:1.2.246.21": [identity_code], "urn:oid:2.5.4.42": ["Testi"], "urn:oid:2.5.4.4": ["Henkilö"]},
            request.id, request.assertion_consumer_service_url, request.issuer.text,
            name_id_policy=request.name_id_policy, userid=identity_code,
            authn={"class_ref": "http://ftn.ficora.fi/2017/loa2", "authn_auth": ENTITY_ID},
            sign_assertion=True, sign_response=True, encrypt_assertion=encrypt)
        http = server.apply_binding(BINDING_HTTP_POST, str(response), request.assertion_consumer_service_url,
                                    "", response=True)
        for assertion, _signed in server.session_db.assertion.values():
            self.sessions.append({"name_id": assertion.subject.name_id,
                                  "session_index": assertion.authn_statement[0].session_index})
        return html.unescape(re.search(r'name="SAMLResponse" value="([^"]+)"', http["data"]).group(1))

    # -- single logout ---------------------------------------------------------------

    def read_logout_request(self, location: str):
        """Our SP's LogoutRequest from the redirect address, its query signature
        checked (pysaml2 raises on a missing or bad one)."""
        server = self._server()
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        return server.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT,
                                           relay_state=query.get("RelayState"), sigalg=query.get("SigAlg"),
                                           signature=query.get("Signature")).message

    def logout_response(self, request, success: bool = True) -> str:
        """The IdP's signed LogoutResponse (HTTP-Redirect) to our SP: its address."""
        from saml2.s_utils import status_message_factory
        from saml2.samlp import STATUS_PARTIAL_LOGOUT

        server = self._server()
        status = None if success else status_message_factory("partial", STATUS_PARTIAL_LOGOUT)
        response = server.create_logout_response(request, [BINDING_HTTP_REDIRECT], status=status, sign=False)
        args = server.response_args(request, [BINDING_HTTP_REDIRECT])
        info = server.apply_binding(args["binding"], response, args["destination"], "", response=True, sign=True,
                                    sigalg=SIG_RSA_SHA256)
        return dict(info["headers"])["Location"]

    def logout_request(self, sp_slo: str, session: dict, binding: str = BINDING_HTTP_REDIRECT,
                       sign: bool = True, session_index: bool = True):
        """An IdP-initiated LogoutRequest for ``session`` to our SP's ``sp_slo``:
        the redirect address (HTTP-Redirect) or the form fields to post (HTTP-POST).
        ``sign=False`` sends it unsigned (as a forger without our IdP's key would)."""
        server = self._server()
        sp_entity = next(iter(server.metadata.service_providers()))
        _id, request = server.create_logout_request(
            sp_slo, sp_entity, name_id=session["name_id"],
            session_indexes=[session["session_index"]] if session_index else None,
            sign=sign and binding == BINDING_HTTP_POST, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        if binding == BINDING_HTTP_REDIRECT:
            info = server.apply_binding(binding, str(request), sp_slo, "", sign=sign, sigalg=SIG_RSA_SHA256)
            return dict(info["headers"])["Location"]
        info = server.apply_binding(binding, str(request), sp_slo, "")
        return {"SAMLRequest": html.unescape(re.search(r'name="SAMLRequest" value="([^"]+)"', info["data"]).group(1))}

    @staticmethod
    def read_logout_response(location: str):
        """(status code, InResponseTo) of our SP's LogoutResponse from its redirect
        address, its query signature required."""
        import base64
        import zlib

        from defusedxml.ElementTree import fromstring

        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert query.get("Signature") and query.get("SigAlg") == SIG_RSA_SHA256, "the LogoutResponse is not signed"
        root = fromstring(zlib.decompress(base64.b64decode(query["SAMLResponse"]), -15))
        ns = "{urn:oasis:names:tc:SAML:2.0:protocol}"
        codes = [el.get("Value") for el in root.iter(ns + "StatusCode")]
        return codes, root.get("InResponseTo")
