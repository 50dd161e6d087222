"""A provider's monthly statement as a PDF (fpdf2), a CSV (semicolon-separated,
decimal commas, as Finnish spreadsheets read it) and the settlement as a JSON file
for the county's invoicing. The figures are the statement items themselves, so
the files always add up to the line."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from flask import Response
from flask_babel import gettext as _

from core.api import iso
from core.templating import fmt_date, fmt_month
from vouchers.models import SettlementLine, VoucherSettlement
from vouchers.services import euros, quantity_text, statement_rows

FORMAT_VERSION = "kotiapu-voucher-settlement/1"


def _kind_label(kind: str) -> str:
    return {"event": _("Service event"), "reversal": _("Reversal of an earlier settlement"),
            "corrected": _("Corrected amount")}.get(kind, kind)


def _csv_date(day) -> str:
    """A date as a spreadsheet with Finnish settings reads it ("5.1.2026"), like the
    file's semicolons and decimal commas."""
    return f"{day.day}.{day.month}.{day.year}"


def statement_csv(settlement: VoucherSettlement, line: SettlementLine) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Month"), _("Provider"), _("Business ID"), _("Service date"), _("Order"), _("Voucher"),
                     _("Line"), _("Unit"), _("Quantity"), _("Voucher part (€)"), _("Client's own share (€)"),
                     _("Corrects event"), _("Event")])

    def money(cents: int) -> str:
        return f"{cents / 100:.2f}".replace(".", ",")

    for row in statement_rows(line):
        writer.writerow([f"{settlement.month:%Y-%m}", line.provider.name, line.provider.business_id,
                         _csv_date(row["service_date"]), row["order_number"], row["voucher_id"],
                         _kind_label(row["kind"]), row["unit"], row["quantity"], money(row["voucher_cents"]),
                         money(row["client_share_cents"]), row["corrects_event_id"] or "", row["event_id"]])
    writer.writerow([])
    writer.writerow([_("Voucher part of the events"), money(line.voucher_cents)])
    writer.writerow([_("Corrections of earlier months"), money(line.credit_cents)])
    writer.writerow([_("Paid by the county"), money(line.payable_cents)])
    writer.writerow([_("Client's own share, invoiced by the provider"), money(line.client_share_cents)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _latin(text: str) -> str:
    """fpdf2's core fonts are Latin-1: Finnish and Swedish letters fit, others are replaced."""
    return str(text).replace("\u00a0", " ").replace("€", "EUR").encode("latin-1", "replace").decode("latin-1")


def statement_pdf(settlement: VoucherSettlement, line: SettlementLine) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(_latin(_("Service voucher statement")))
    pdf.set_author("Kotiapu")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    month = fmt_month(settlement.month)
    pdf.cell(0, 9, _latin(_("Service voucher statement %(month)s", month=month)),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _latin(f"{line.provider.name} ({line.provider.business_id})"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, _latin(_("Settlement %(id)s, statement %(line)s", id=settlement.id, line=line.id)),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (22, 26, 44, 26, 32, 32)
    heads = (_("Date"), _("Order"), _("Line"), _("Quantity"), _("Voucher part"), _("Own share"))
    pdf.set_font("Helvetica", "B", 9)
    for w, h in zip(widths, heads):
        pdf.cell(w, 7, _latin(h), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for row in statement_rows(line):
        cells = (fmt_date(row["service_date"]), row["order_number"] or "", _kind_label(row["kind"]),
                 quantity_text(row["unit"], row["quantity"]), euros(row["voucher_cents"]),
                 euros(row["client_share_cents"]))
        for i, (w, c) in enumerate(zip(widths, cells)):
            pdf.cell(w, 6, _latin(c), border=1, align="R" if i >= 3 else "L")
        pdf.ln()
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    for label, cents in ((_("Voucher part of the events"), line.voucher_cents),
                         (_("Corrections of earlier months"), line.credit_cents),
                         (_("Paid by the county"), line.payable_cents),
                         (_("Client's own share, invoiced by the provider"), line.client_share_cents)):
        pdf.cell(120, 6, _latin(label))
        pdf.cell(40, 6, _latin(euros(cents)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(0, 4, _latin(_("Voucher-funded work gets no household tax deduction. The provider invoices the "
                                  "client's own share with its VAT.")))
    return bytes(pdf.output())


def county_file(settlement: VoucherSettlement, lines: list[SettlementLine]) -> bytes:
    """The settlement for the county's invoicing system: every provider's line and
    items, amounts in cents (reversals negative)."""
    def item(row):
        return {"event_id": row["event_id"], "kind": row["kind"], "service_date": row["service_date"].isoformat(),
                "order_number": row["order_number"], "voucher_id": row["voucher_id"], "unit": row["unit"],
                "quantity": row["quantity"], "voucher_cents": row["voucher_cents"],
                "client_share_cents": row["client_share_cents"], "corrects_event_id": row["corrects_event_id"]}

    body = {"format": FORMAT_VERSION, "settlement_id": settlement.id, "month": f"{settlement.month:%Y-%m}",
            "status": settlement.status, "done_at": iso(settlement.done_at), "currency": "EUR",
            "total_payable_cents": sum(line.payable_cents for line in lines),
            "providers": [{"provider_id": line.provider_id, "name": line.provider.name,
                           "business_id": line.provider.business_id, "events": line.events,
                           "voucher_cents": line.voucher_cents, "credit_cents": line.credit_cents,
                           "payable_cents": line.payable_cents, "client_share_cents": line.client_share_cents,
                           "items": [item(r) for r in statement_rows(line)]} for line in lines]}
    return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")


def filename(settlement: VoucherSettlement, line: SettlementLine | None, ext: str) -> str:
    month = settlement.month if isinstance(settlement.month, date) else settlement.month
    who = f"-{line.provider.business_id}" if line is not None else ""
    return f"voucher-statement-{month:%Y-%m}{who}.{ext}"


def statement_response(settlement, line, ext: str) -> Response:
    if ext == "pdf":
        body, mimetype = statement_pdf(settlement, line), "application/pdf"
    else:
        body, mimetype = statement_csv(settlement, line), "text/csv; charset=utf-8"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename(settlement, line, ext)}"',
        "Cache-Control": "no-store"})


def county_response(settlement, lines) -> Response:
    return Response(county_file(settlement, lines), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename(settlement, None, "json")}"',
        "Cache-Control": "no-store"})
