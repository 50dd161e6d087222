"""Strong identification against a real OpenID provider on 127.0.0.1: the local
provider of ``identity.local_provider`` (Authlib's server classes, its own RSA key,
discovery document and JWKS), started per test. The app's own HTTP calls (discovery,
JWKS, token endpoint) go to it over loopback; the browser's part (the provider's
person picker) is played by ``requests``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

from identity.local_provider import LocalProvider, Person
from tests import factories
from tests.factories import valid_identity_code
from tests.integration.identity.saml_idp import LoopbackIdp, keypair

CLIENT_ID = "kotiapu-test"
CLIENT_SECRET = "oidc-client-secret-for-tests-0123456789"
CALLBACK = "http://kotiapu.test/login/strong/callback"
AFTER_LOGOUT = "http://kotiapu.test/login"

CLIENT_CODE = valid_identity_code(101)
RELATIVE_CODE = valid_identity_code(202, __import__("datetime").date(1972, 8, 14))
UNKNOWN_CODE = valid_identity_code(303, __import__("datetime").date(1980, 1, 2))


@pytest.fixture
def provider():
    op = LocalProvider(CLIENT_ID, CLIENT_SECRET, [CALLBACK], [AFTER_LOGOUT], persons=[
        Person(CLIENT_CODE, "Aino", "Asiakas"), Person(RELATIVE_CODE, "Leena", "Omainen"),
        Person(UNKNOWN_CODE, "Tuntematon", "Henkilö")]).start()
    yield op
    op.stop()


def oidc_app(database_url: str, redis_url: str, provider, **settings):
    """The app of tests/conftest.py with strong identification pointed at ``provider``
    and any further ``settings``, inside an application context (a generator for a
    fixture to ``yield from``)."""
    from app import create_app
    from core.extensions import db
    from tests.conftest import RequestIsolatingClient

    app = create_app({
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "kotiapu.test", "BASE_URL": "http://kotiapu.test", "TESTING": True, "DEFAULT_LANGUAGE": "en",
        "OIDC_DISCOVERY_URL": provider.discovery_url, "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET, **settings,
    })
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(database_url, redis_url, provider):
    yield from oidc_app(database_url, redis_url, provider)


def with_params(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def local_path(url: str) -> str:
    parts = urlsplit(url)
    assert parts.netloc in ("", "kotiapu.test"), url
    return parts.path + ("?" + parts.query if parts.query else "")


class Browser:
    """The person's browser: the test client for the platform, ``requests`` for the
    provider (another site)."""

    def __init__(self, client):
        self.client = client
        self.bank = requests.Session()

    def start(self, next_url: str | None = None) -> str:
        """Press the button: the address the platform sends the browser to."""
        response = self.client.get("/login/strong" + (f"?next={next_url}" if next_url else ""))
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return response.headers["Location"]

    def identify(self, authorize_url: str, identity_code: str) -> str:
        """At the provider: open its page, pick the person; the callback address."""
        page = self.bank.get(authorize_url, timeout=10)
        assert page.status_code == 200, page.text[:300]
        answer = self.bank.post(authorize_url, data={"identity_code": identity_code}, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:300]
        return answer.headers["Location"]

    def back(self, callback_url: str):
        return self.client.get(local_path(callback_url))

    def log_in(self, identity_code: str, next_url: str | None = None):
        return self.back(self.identify(self.start(next_url), identity_code))


@pytest.fixture
def browser(client):
    return Browser(client)


# -- SAML 2.0 (test_saml_login.py, test_saml_logout.py) -----------------------------

@pytest.fixture
def idp(tmp_path):
    return LoopbackIdp(tmp_path)


@pytest.fixture
def saml_app(database_url, redis_url, idp, tmp_path):
    """The app of tests/conftest.py with SAML 2.0 pointed at ``idp`` (a SAML test
    module uses it as its ``app``)."""
    from app import create_app
    from tests.conftest import RequestIsolatingClient

    sp_key, sp_cert = keypair(tmp_path, "sp")
    app = create_app({
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "kotiapu.test", "BASE_URL": "http://kotiapu.test", "TESTING": True, "DEFAULT_LANGUAGE": "en",
        "SAML_IDP_METADATA": str(idp.metadata_file), "SAML_SP_KEY_FILE": sp_key, "SAML_SP_CERT_FILE": sp_cert,
    })
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        yield app
        from core.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def aino(db, make_user, client, idp):
    """Aino, a client with a login; the IdP has read our SP metadata."""
    record = factories.ClientFactory(first_name="Aino", last_name="Asiakas", personal_identity_code=CLIENT_CODE)
    db.session.flush()
    user = make_user("client", client=record, name="Aino Asiakas", language="en")
    db.session.commit()
    metadata = client.get("/saml/metadata")  # the IdP learns our keys and addresses from our metadata
    assert metadata.status_code == 200 and b"AssertionConsumerService" in metadata.data
    idp.sp_metadata = metadata.get_data(as_text=True)
    return user
