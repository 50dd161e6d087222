"""No personal data in any manager report: not in the stored figures, the JSON,
CSV or XLSX files, nor on the pages: no client's name, identity code, address or
e-mail, no buyer's name or e-mail, no client ids."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from reports.aggregates import KINDS
from reports.models import ReportRun

pytestmark = pytest.mark.smoke


def _xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
                     if v is not None)


def test_no_personal_data_anywhere(client, db, dataset, manager, login_as, run_jobs):
    login_as(manager)
    for kind in KINDS:
        client.post("/reports/", data={"kind": kind, "format": "xlsx", "date_from": "2026-03-01",
                                       "date_to": "2026-04-30"})
    run_jobs()
    texts = [client.get("/reports/?date_from=2026-03-01&date_to=2026-04-30").get_data(as_text=True)]
    for run in db.session.scalars(sa.select(ReportRun)):
        assert run.status == "done"
        stored = json.dumps(run.result, ensure_ascii=False)
        assert "client_id" not in stored
        texts.append(stored)
        texts.append(client.get(f"/reports/{run.id}").get_data(as_text=True))
        texts.append(client.get(f"/reports/{run.id}/download/csv").get_data(as_text=True))
        texts.append(_xlsx_text(client.get(f"/reports/{run.id}/download/xlsx").data))
    everything = "\n".join(texts)
    for secret in dataset.names + [c.address for c in dataset.clients.values()]:
        assert secret not in everything, secret
