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
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
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
            "endpoints": {"single_sign_on_service": [(ENTITY_ID + "/sso", BINDING_HTTP_REDIRECT)]},
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

    def _server(self) -> Server:
        key, cert = self.signing_key or (self.key_file, self.cert_file)
        conf = IdPConfig()
        conf.load(_config(key, cert, self.lifetime_minutes, {"inline": [self.sp_metadata]}))
        return Server(config=conf)

    def answer(self, location: str, identity_code: str, encrypt: bool = True) -> str:
        server = self._server()
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        request = server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT).message
        response = server.create_authn_response(
            {"urn:oid:1.2.246.21": [identity_code], "urn:oid:2.5.4.42": ["Testi"], "urn:oid:2.5.4.4": ["Henkilö"]},
            request.id, request.assertion_consumer_service_url, request.issuer.text,
            name_id_policy=request.name_id_policy, userid=identity_code,
            authn={"class_ref": "http://ftn.ficora.fi/2017/loa2", "authn_auth": ENTITY_ID},
            sign_assertion=True, sign_response=True, encrypt_assertion=encrypt)
        http = server.apply_binding(BINDING_HTTP_POST, str(response), request.assertion_consumer_service_url,
                                    "", response=True)
        return html.unescape(re.search(r'name="SAMLResponse" value="([^"]+)"', http["data"]).group(1))
