"""A built report as a file: CSV, XLSX (openpyxl) or JSON.

Every file starts with a header that states the report, the period, the filters,
the time it was generated and the small-group rule; then each table of the report
with its column headings, rows and total. Suppressed figures are ``<5``. Money is
in euros with two decimals (the JSON keeps integer cents, as the API does).
Text that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) is
written as text.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _

from reports.aggregates import GROUP_TYPES, HELSINKI, SMALL_GROUP, SUPPRESSED_TEXT

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render(result: dict, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(result)
    if fmt == "xlsx":
        return to_xlsx(result)
    if fmt == "json":
        return to_json(result)
    raise ValueError(f"unknown format {fmt!r}")


def filename(result: dict, fmt: str, run_id: int | None = None) -> str:
    period = result["period"]
    suffix = f"-{run_id}" if run_id else ""
    return f"kotiapu-{result['kind']}-{period['from']}-{period['to']}{suffix}.{fmt}"


def generated_text(result: dict) -> str:
    at = datetime.fromisoformat(result["generated_at"].replace("Z", "+00:00")).astimezone(HELSINKI)
    return at.strftime("%Y-%m-%d %H:%M") + " (Europe/Helsinki)"


def header_rows(result: dict) -> list[list[str]]:
    """The header every file starts with (in the report's language)."""
    filters = "; ".join(f"{label}: {value}" for label, value in result["filters_text"]) or _("none")
    rows = [
        [_("Report"), result["title"]],
        [_("Period"), f"{result['period']['from']} – {result['period']['to']}"],
        [_("Filters"), filters],
    ]
    if result.get("filters_not_applied"):
        rows.append([_("Filters not applicable to this report"), ", ".join(result["filters_not_applied"])])
    rows += [
        [_("Generated"), generated_text(result)],
        [_("Privacy"), _("Figures of groups with fewer than %(n)s clients are shown as <5. "
                         "The report contains no names or identity codes.", n=SMALL_GROUP)],
    ]
    return rows


def cell_value(value, kind: str, suppressed: bool = False):
    """A figure as it is written in a file: ``<5``, euros for money, else the value."""
    if suppressed:
        return SUPPRESSED_TEXT
    if value is None:
        return None
    if kind == "money":
        return Decimal(int(value)) / 100
    return value


def _text(value: str) -> str:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _section_rows(section: dict):
    """Heading row and data rows (the total last) of a section, as written values."""
    columns = section["columns"]
    head = [c["label"] + (" (EUR)" if c["type"] == "money" else "") for c in columns]
    rows = []

    def figures(row):
        return [cell_value(row.get(c["key"]), c["type"], row.get("suppressed", False)) for c in columns
                if c["type"] not in GROUP_TYPES]

    groups = [c for c in columns if c["type"] in GROUP_TYPES]
    for row in section["rows"]:
        rows.append([row.get(c["key"]) for c in groups] + figures(row))
    if section.get("total"):
        rows.append([_("Total")] + [None] * (len(groups) - 1) + figures(section["total"]))
    return head, rows


def to_csv(result: dict) -> bytes:
    with force_locale(result.get("language", "fi")):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        for label, value in header_rows(result):
            w.writerow([_text(label), _text(value)])
        for note in result.get("notes", []):
            w.writerow([_("Note"), _text(note)])
        for section in result["sections"]:
            w.writerow([])
            w.writerow([_text(section["title"])])
            head, rows = _section_rows(section)
            w.writerow([_text(h) for h in head])
            for row in rows:
                w.writerow(["" if v is None else (_text(v) if isinstance(v, str) else _csv_number(v)) for v in row])
    # A byte order mark lets spreadsheet programs read the UTF-8 (ä, ö, å) right.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _csv_number(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def to_xlsx(result: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    with force_locale(result.get("language", "fi")):
        wb = Workbook()
        wb.remove(wb.active)
        used: set[str] = set()
        for index, section in enumerate(result["sections"]):
            ws = wb.create_sheet(_sheet_title(section["title"], used))
            r = 1
            for label, value in header_rows(result):
                _put(ws, r, 1, label).font = bold
                _put(ws, r, 2, value)
                r += 1
            if index == 0:
                for note in result.get("notes", []):
                    _put(ws, r, 1, _("Note")).font = bold
                    _put(ws, r, 2, note)
                    r += 1
            r += 1
            _put(ws, r, 1, section["title"]).font = Font(bold=True, size=13)
            r += 1
            head, rows = _section_rows(section)
            for c, text in enumerate(head, start=1):
                cell = _put(ws, r, c, text)
                cell.font = bold
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.freeze_panes = ws.cell(row=r + 1, column=1)
            r += 1
            for row in rows:
                for c, value in enumerate(row, start=1):
                    cell = _put(ws, r, c, value)
                    kind = section["columns"][c - 1]["type"]
                    if isinstance(value, Decimal):
                        cell.number_format = '#,##0.00 "€"'
                    elif kind == "percent" and value not in (None, SUPPRESSED_TEXT):
                        cell.number_format = "0.0"
                    elif value == SUPPRESSED_TEXT:
                        cell.alignment = Alignment(horizontal="right")
                if row and row[0] == _("Total"):
                    for c in range(1, len(row) + 1):
                        ws.cell(row=r, column=c).font = bold
                r += 1
            ws.column_dimensions["A"].width = 34
            for c in range(2, len(head) + 1):
                ws.column_dimensions[get_column_letter(c)].width = 16
        out = io.BytesIO()
        wb.save(out)
    return out.getvalue()


def _put(ws, row: int, column: int, value):
    cell = ws.cell(row=row, column=column)
    if isinstance(value, Decimal):
        cell.value = float(value)
    else:
        cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(ch for ch in title if ch not in '[]:*?/\\')[:31].strip() or "Report"
    name, n = clean, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = clean[:31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def to_json(result: dict) -> bytes:
    return json.dumps(result, ensure_ascii=False, indent=1).encode("utf-8")
