"""The served OpenAPI document is the truth about the API (issue 14, point 1).

Schemathesis reads ``/api/v1/openapi.json`` from the app (through its WSGI
interface), generates requests for every operation from the document's own schemas,
sends them as each role (and anonymously) against the demo data set, and checks each
answer: never a server error, only the status codes the document declares for that
operation, the declared content type, a body that conforms to the declared schema,
and the declared headers (``Retry-After`` on a 429, ``WWW-Authenticate`` on a 401).

Every operation gets ``MAX_EXAMPLES`` generated requests per role (derandomized, so
CI runs are repeatable); all failures of a role are reported together."""

from __future__ import annotations

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import ApiToken, User
from accounts.services import issue_token
from demo import DEMO_LOGINS, load_demo

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 4
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# "provider" is an organisation's administrator (home care); "agency" a staffing agency's.
ROLES = ("anonymous", "staff", "provider", "agency", "client", "manager", "admin")


def _login_of(role: str) -> str:
    if role == "agency":
        return next(email for r, email, _ in DEMO_LOGINS if r == "provider" and "hoivarekry" in email)
    return next(email for r, email, _ in DEMO_LOGINS if r == role)


class Caller:
    """A role's bearer token, issued again when a generated call revoked it (the
    document includes ``DELETE /tokens/current`` and ``DELETE /tokens/{id}``)."""

    def __init__(self, db, role: str):
        self.db, self.role, self.token, self.row_id = db, role, None, None

    def headers(self) -> dict:
        if self.role == "anonymous":
            return {}
        self.db.session.expire_all()
        row = self.db.session.get(ApiToken, self.row_id) if self.row_id else None
        if row is None or row.revoked_at is not None or not row.user.active:
            user = self.db.session.scalar(sa.select(User).where(User.email == _login_of(self.role)))
            self.token, row = issue_token(user, name="schemathesis")
            self.row_id = row.id
            self.db.session.commit()
        return {"Authorization": f"Bearer {self.token}"}


def test_the_api_answers_as_its_document_says(app, db):
    load_demo()
    db.session.commit()
    app.config["API_RATE_LIMIT"] = app.config["API_ANONYMOUS_RATE_LIMIT"] = "100000/minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 45
    failures: list[str] = []
    for role in ROLES:
        failures += _run_as(db, role, operations)
    assert not failures, "\n\n".join(failures)


def _run_as(db, role: str, operations) -> list[str]:
    caller = Caller(db, role)
    failures: list[str] = []
    for operation in operations:
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(headers=caller.headers())
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collected and reported together below
            failures.append(f"{operation.method.upper()} {operation.path} as {role}:\n{exc}"[:3000])
    return failures


@pytest.mark.smoke
def test_the_document_declares_every_route_of_the_api(app, client):
    """Every ``/api/v1`` route of the app is in the document with its path
    parameters, so schemathesis tests them all."""
    from jsonschema import Draft202012Validator

    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    for name, schema in document["components"]["schemas"].items():   # OpenAPI 3.1 schemas are JSON Schema 2020-12
        Draft202012Validator.check_schema(schema)
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi_document":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            matches = [p for (m, p) in documented if m == method and p.count("/") == rule.rule.count("/") - 2
                       and all(a == b or (a.startswith("<") and b.startswith("{"))
                               for a, b in zip(rule.rule.split("/")[3:], p.split("/")[1:]))]
            assert matches, f"{method} {rule.rule} is not in the document"
    for path, ops in document["paths"].items():
        names = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, f"{method} {path}: path parameters {declared} != {names}"
            assert {"429"} <= set(op["responses"]), f"{method} {path}"


@pytest.mark.smoke
def test_the_reference_page_shows_the_document_without_loading_anything_from_elsewhere(client):
    r = client.get("/api/docs?lang=en")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    for text in ("POST /orders/{order_id}/accept", "GET /tokens", "DELETE /tokens/{id}", "already_taken",
                 "Retry-After", "/api/v1/openapi.json"):
        assert text in html, text
    assert "cdn" not in html.lower() and 'src="http' not in html and 'href="http' not in html.replace(
        'href="http://kotiapu.test', "")
    assert client.get("/api/docs?lang=fi").get_data(as_text=True).count("Rajapinnan kuvaus") >= 1


@pytest.mark.smoke
def test_bad_input_is_a_422_naming_the_field_never_a_500(client, make_user, api_token):
    headers = api_token(make_user("staff"))
    cases = [
        ({"client_id": 2**31, "service_type_id": 1, "start_date": "2026-05-01"}, "client_id"),
        ({"client_id": 1, "service_type_id": 1, "start_date": "9999-12-31"}, "start_date"),
        ({"client_id": 1, "service_type_id": 1, "start_date": "2026-05-01", "instructions": "a\x00b"},
         "instructions"),
        ({"client_id": 1, "service_type_id": 1, "start_date": "2026-05-01", "provider_ids": [1, 0]}, "provider_ids"),
        ({"client_id": True, "service_type_id": "1", "start_date": 20260501}, "client_id"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/orders", json=body, headers=headers)
        assert r.status_code == 422, (body, r.get_json())
        assert field in r.get_json()["error"]["fields"], r.get_json()
    assert client.get("/api/v1/orders/2147483648", headers=headers).status_code == 404
    assert client.get("/api/v1/orders?limit=201", headers=headers).status_code == 422
    assert client.get("/api/v1/feedback/a%00b").status_code == 400  # a NUL anywhere but a JSON body: core.inputs
    r = client.post("/api/v1/clients", data=b'{"first_name": "\\ud800"}', headers={**headers,
                                                                                   "Content-Type": "application/json"})
    assert r.status_code == 422 and "first_name" in r.get_json()["error"]["fields"]
