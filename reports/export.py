"""A built report as a file: CSV, XLSX (openpyxl) or JSON.

Every file starts with a header that states the report, the period, the filters,
the time it was generated and the small-group rule; then each table of the report
with its column headings, rows and total. A hidden people count is ``<5``, every
other hidden figure ``–`` (``reports.aggregates.hidden_text``). Money is in euros
with two decimals (the JSON keeps integer cents, as the API does). Text that a
spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) is written as text.

CSV comes in two dialects. ``csv`` is what Excel and LibreOffice open directly with
Finnish regional settings: semicolons between fields, a decimal comma, UTF-8 with a
byte-order mark, CRLF line ends. ``csv_plain`` is the plain dialect for programs:
commas, a decimal point, UTF-8 without a byte-order mark. XLSX cells are typed:
numbers are numbers (money with a euro format), dates are dates.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _

from core.templating import fmt_date, fmt_dt
from core.time import local_zone, to_local
from reports.aggregates import GROUP_TYPES, HIDDEN_TEXT, SMALL_GROUP, SUPPRESSED_TEXT, hidden_text

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# name -> (delimiter, decimal separator, byte-order mark)
CSV_DIALECTS = {"fi": (";", ",", True), "plain": (",", ".", False)}
# Date cells of the XLSX shown as the report's language writes dates (the cells stay
# dates: a spreadsheet sorts and filters them).
XLSX_DATE_FORMATS = {"fi": {"date": "d.m.yyyy", "datetime": "d.m.yyyy h:mm", "month": "m/yyyy"},
                     "sv": {"date": "d.m.yyyy", "datetime": "d.m.yyyy h:mm", "month": "m/yyyy"},
                     "en": {"date": "d mmm yyyy", "datetime": "d mmm yyyy hh:mm", "month": "mmm yyyy"}}
FILE_EXTENSIONS = {"json": "json", "csv": "csv", "csv_plain": "csv", "xlsx": "xlsx"}


def render(result: dict, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(result, "fi")
    if fmt == "csv_plain":
        return to_csv(result, "plain")
    if fmt == "xlsx":
        return to_xlsx(result)
    if fmt == "json":
        return to_json(result)
    raise ValueError(f"unknown format {fmt!r}")


def filename(result: dict, fmt: str, run_id: int | None = None) -> str:
    period = result["period"]
    suffix = f"-{run_id}" if run_id else ""
    return f"kotiapu-{result['kind']}-{period['from']}-{period['to']}{suffix}.{FILE_EXTENSIONS.get(fmt, fmt)}"


def generated_at(result: dict) -> datetime:
    """When the report was made, in the county's local time."""
    return to_local(datetime.fromisoformat(result["generated_at"].replace("Z", "+00:00")))


def generated_text(result: dict, local_formats: bool = True) -> str:
    """When the report was made, local time with the zone named: in the report
    language's format ("1.12.2026 1.30"), or ISO for the plain dialect."""
    at = generated_at(result)
    text = fmt_dt(at) if local_formats else at.strftime("%Y-%m-%d %H:%M")
    return f"{text} ({local_zone().key})"


def period_text(result: dict, local_formats: bool = True) -> str:
    start, end = result["period"]["from"], result["period"]["to"]
    if local_formats:
        start, end = fmt_date(start), fmt_date(end)
    return f"{start} – {end}"


def header_rows(result: dict, local_formats: bool = True) -> list[list[str]]:
    """The header every file starts with (in the report's language; its dates in
    the language's format unless ``local_formats`` is off, as in the plain CSV)."""
    filters = "; ".join(f"{label}: {value}" for label, value in result["filters_text"]) or _("none")
    rows = [
        [_("Report"), result["title"]],
        [_("Period"), period_text(result, local_formats)],
        [_("Filters"), filters],
    ]
    if result.get("filters_not_applied"):
        rows.append([_("Filters not applicable to this report"), ", ".join(result["filters_not_applied"])])
    rows += [
        [_("Generated"), generated_text(result, local_formats)],
        [_("Privacy"), privacy_text()],
    ]
    return rows


def privacy_text() -> str:
    return _("A group of fewer than %(n)s clients is hidden: its number of clients is shown as <5 and its "
             "other figures (amounts of money, averages, rates) as –. Some other figures are shown as – "
             "too, so that a hidden figure cannot be worked out from the totals. The report contains no "
             "names or identity codes.", n=SMALL_GROUP)


def cell_value(value, kind: str, suppressed: bool = False, text: str = HIDDEN_TEXT):
    """A figure as it is written in a file: ``text`` (``<5`` or ``–``) when hidden,
    euros for money, else the value."""
    if suppressed:
        return text
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
        return [cell_value(row.get(c["key"]), c["type"], row.get("suppressed", False),
                           hidden_text(row, c["key"], section.get("people"))) for c in columns
                if c["type"] not in GROUP_TYPES]

    groups = [c for c in columns if c["type"] in GROUP_TYPES]
    for row in section["rows"]:
        rows.append([row.get(c["key"]) for c in groups] + figures(row))
    if section.get("total"):
        rows.append([_("Total")] + [None] * (len(groups) - 1) + figures(section["total"]))
    return head, rows


def to_csv(result: dict, dialect: str = "fi") -> bytes:
    """The report as CSV in ``dialect`` (``fi``: Finnish spreadsheets, ``plain``)."""
    delimiter, decimal, bom = CSV_DIALECTS[dialect]
    with force_locale(result.get("language", "fi")):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
        for label, value in header_rows(result, local_formats=dialect != "plain"):
            w.writerow([_text(label), _text(value)])
        for note in result.get("notes", []):
            w.writerow([_("Note"), _text(note)])
        for section in result["sections"]:
            w.writerow([])
            w.writerow([_text(section["title"])])
            head, rows = _section_rows(section)
            w.writerow([_text(h) for h in head])
            for row in rows:
                w.writerow(["" if v is None else (_text(v) if isinstance(v, str) else _csv_number(v, decimal))
                            for v in row])
    # A byte order mark lets spreadsheet programs read the UTF-8 (ä, ö, å) right.
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


def _csv_number(value, decimal: str = ".") -> str:
    """A number without thousands separators, with the dialect's decimal mark."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, Decimal):
        text = f"{value:.2f}"
    elif isinstance(value, float):
        text = repr(round(value, 6)) if not value.is_integer() else f"{value:.1f}"
    else:
        text = str(value)
    return text.replace(".", decimal)


def to_xlsx(result: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    formats = XLSX_DATE_FORMATS.get(result.get("language", "fi"), XLSX_DATE_FORMATS["fi"])
    with force_locale(result.get("language", "fi")):
        wb = Workbook()
        wb.remove(wb.active)
        used: set[str] = set()
        for index, section in enumerate(result["sections"]):
            ws = wb.create_sheet(_sheet_title(section["title"], used))
            r = 1
            for values in _xlsx_header(result):
                _put(ws, r, 1, values[0]).font = bold
                for c, value in enumerate(values[1:], start=2):
                    cell = _put(ws, r, c, value)
                    if isinstance(value, datetime):
                        cell.number_format = formats["datetime"]
                    elif isinstance(value, date):
                        cell.number_format = formats["date"]
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
                    elif kind == "percent" and isinstance(value, (int, float)):
                        cell.number_format = "0.0"
                    elif kind == "month" and isinstance(value, str) and len(value) == 7:
                        cell.value = date(int(value[:4]), int(value[5:]), 1)  # a date, shown as the month
                        cell.number_format = formats["month"]
                    elif value in (SUPPRESSED_TEXT, HIDDEN_TEXT):
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


def _xlsx_header(result: dict) -> list[list]:
    """The header rows with typed cells: the period as two dates, the time it was
    generated as a date and time (Helsinki time, named in the next cell)."""
    out = []
    for label, value in header_rows(result):
        if label == _("Period"):
            out.append([label, date.fromisoformat(result["period"]["from"]), "–",
                        date.fromisoformat(result["period"]["to"])])
        elif label == _("Generated"):
            at = generated_at(result)
            out.append([label, at.replace(tzinfo=None, second=0, microsecond=0), local_zone().key])
        else:
            out.append([label, value])
    return out


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
