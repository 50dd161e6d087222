"""The reports API of API.md: who may call it, what it refuses (422 with the bad
fields named, never a 500), and the life of a report from queued to done."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.models import OutboxJob
from reports.models import ReportRun

pytestmark = pytest.mark.smoke

GOOD = {"kind": "orders", "from": "2026-03-01", "to": "2026-03-31", "format": "csv"}


@pytest.mark.parametrize("body, field", [
    ({**GOOD, "kind": "everything"}, "kind"),
    ({**GOOD, "from": "2026-02-30"}, "from"),
    ({**GOOD, "from": "1.3.2026"}, "from"),
    ({**GOOD, "to": None}, "to"),
    ({**GOOD, "from": "2026-04-01"}, "to"),            # from after to
    ({**GOOD, "from": "2016-01-01"}, "to"),            # more than 60 months
    ({**GOOD, "format": "pdf"}, "format"),
    ({**GOOD, "kind": 7}, "kind"),
    ({**GOOD, "filters": "Tampere"}, "filters"),
    ({**GOOD, "filters": {"postal_code": "33a"}}, "filters.postal_code"),
    ({**GOOD, "filters": {"provider_id": 999999}}, "filters.provider_id"),
    ({**GOOD, "filters": {"category_id": "x"}}, "filters.category_id"),
    ({**GOOD, "filters": {"segment": "vip"}}, "filters.segment"),
    ({**GOOD, "filters": {"name": "Virtanen"}}, "filters.name"),
])
def test_bad_requests_are_422_naming_the_field_and_write_nothing(client, db, make_user, api_token, body, field):
    headers = api_token(make_user("manager"))
    r = client.post("/api/v1/reports", json=body, headers=headers)
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRun)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxJob)) == 0


def test_body_must_be_a_json_object(client, make_user, api_token):
    headers = api_token(make_user("manager"))
    r = client.post("/api/v1/reports", data="[1, 2]", headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 400


@pytest.mark.parametrize("role", ["staff", "admin", "provider", "client"])
def test_only_managers_may_request_reports(client, make_user, api_token, role):
    r = client.post("/api/v1/reports", json=GOOD, headers=api_token(make_user(role)))
    assert r.status_code == 403


def test_no_token_is_401(client):
    assert client.post("/api/v1/reports", json=GOOD).status_code == 401
    assert client.get("/api/v1/reports/1").status_code == 401


def test_request_queues_a_job_on_the_reports_queue_and_is_followed_to_done(
        client, db, make_user, api_token, run_jobs):
    manager = make_user("manager")
    headers = api_token(manager)
    r = client.post("/api/v1/reports", json={**GOOD, "filters": {"postal_code": "331", "segment": "guidance"}},
                    headers=headers)
    assert r.status_code == 202
    body = r.get_json()
    assert body["status"] == "queued" and isinstance(body["id"], int)
    run_id = body["id"]
    job = db.session.scalar(sa.select(OutboxJob))
    assert (job.queue, job.func, job.args) == ("reports", "reports.jobs.build_report", [run_id])
    status = client.get(f"/api/v1/reports/{run_id}", headers=headers).get_json()
    assert status["status"] == "queued" and status["progress"] == 0 and "download_url" not in status
    assert status["filters"] == {"postal_code": "331", "segment": "guidance"}
    assert client.get(f"/api/v1/reports/{run_id}/download", headers=headers).status_code == 409
    run_jobs()
    status = client.get(f"/api/v1/reports/{run_id}", headers=headers).get_json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["download_url"].startswith("http://kotiapu.test/api/v1/reports/")
    download = client.get(status["download_url"], headers=headers)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith('attachment; filename="kotiapu-orders-2026-03-01')
    # A repeated delivery of the job changes nothing.
    from reports.jobs import build_report

    assert build_report(run_id) == "skipped"


def test_json_format_embeds_the_result(client, make_user, api_token, run_jobs):
    headers = api_token(make_user("manager"))
    run_id = client.post("/api/v1/reports", json={**GOOD, "kind": "staffing", "format": "json"},
                         headers=headers).get_json()["id"]
    run_jobs()
    body = client.get(f"/api/v1/reports/{run_id}", headers=headers).get_json()
    assert body["result"]["kind"] == "staffing"
    assert body["result"]["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert {s["key"] for s in body["result"]["sections"]} == {"by_month", "by_qualification", "by_agency"}


def test_admins_may_follow_reports_others_may_not(client, make_user, api_token, db):
    run_id = client.post("/api/v1/reports", json=GOOD, headers=api_token(make_user("manager"))).get_json()["id"]
    assert client.get(f"/api/v1/reports/{run_id}", headers=api_token(make_user("admin"))).status_code == 200
    assert client.get("/api/v1/reports", headers=api_token(make_user("admin"))).status_code == 200
    for role in ("staff", "provider", "client"):
        assert client.get(f"/api/v1/reports/{run_id}", headers=api_token(make_user(role))).status_code == 403
    assert client.get("/api/v1/reports/999999", headers=api_token(make_user("manager"))).status_code == 404


def test_list_pages_newest_first(client, make_user, api_token):
    headers = api_token(make_user("manager"))
    ids = [client.post("/api/v1/reports", json=GOOD, headers=headers).get_json()["id"] for _ in range(3)]
    page = client.get("/api/v1/reports?limit=2", headers=headers).get_json()
    assert [i["id"] for i in page["items"]] == ids[::-1][:2]
    assert page["next"].startswith("http://kotiapu.test/api/v1/reports?")
    rest = client.get(page["next"], headers=headers).get_json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next"] is None


def test_openapi_documents_the_reports_calls(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "post" in doc["paths"]["/reports"] and "get" in doc["paths"]["/reports/{id}"]
    assert "202" in doc["paths"]["/reports"]["post"]["responses"]
