"""The month's ratings for the provincial 好差评 platform: one row per rating (core/reviews/export.py
says which fields), as CSV (UTF-8 with a byte-order mark, which Excel needs for Chinese) and as an
Excel workbook. (The monthly workbook's 好差评 sheet of figures is workbook.py's.)"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from hallq.core.reviews.export import FIELDS

from .workbook import header_row

# A cell a spreadsheet would read as a formula (CSV injection): kept as text with a leading quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value):
    """A value as a spreadsheet must show it: never a formula, never a character Excel refuses."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in FIELDS])
    writer.writerows([[_text(row[key]) for key, _ in FIELDS] for row in rows])
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: list[dict], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "评价明细"
    header_row(sheet, [label for _, label in FIELDS])
    for r, row in enumerate(rows, start=2):
        for c, (key, _) in enumerate(FIELDS, start=1):
            cell = sheet.cell(row=r, column=c, value=_text(row[key]))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, whatever it starts with
    sheet.freeze_panes = "A2"
    book.properties.title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
