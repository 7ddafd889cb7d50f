"""The month's ratings for the provincial 好差评 platform: one row per rating (core/reviews/export.py
says which fields), as CSV (UTF-8 with a byte-order mark, which Excel needs for Chinese) and as an
Excel workbook; and the 好差评 sheet of the monthly workbook, from a StatsReport."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from hallq.core.reviews.export import FIELDS

# The 好差评 sheet of the monthly workbook: (label, key in the report's totals, kind)
SUMMARY = [
    ("评价数", "reviews", ""), ("窗口评价器", "reviews_box", ""), ("手机扫码", "reviews_phone", ""),
    ("默认评价", "reviews_default", ""), ("主动评价率", "active_rating_rate", "rate"), ("非常满意率", "five_star_rate", "rate"),
    ("满意率", "satisfaction_rate", "rate"), ("差评数", "bad_reviews", ""), ("申诉剔除数", "appealed_removed", ""),
    ("差评工单数", "bad_cases", ""), ("已整改办结数", "rectified", ""), ("按期整改数", "rectified_on_time", ""),
    ("差评整改率", "rectification_rate", "rate"), ("按期整改率", "on_time_rectification_rate", "rate"),
]
LEVEL_NAMES = {"5": "非常满意", "4": "满意", "3": "基本满意", "2": "不满意", "1": "非常不满意"}
NOW = [("工单未办结", "open"), ("工单已超期", "overdue"), ("工单即将到期", "due_soon"), ("申诉待审核", "appealed")]


def summary_rows(report: dict) -> list[tuple[str, object, str]]:
    """The 好差评 sheet: the month's ratings by channel and level, the rates, the cases."""
    totals = report["totals"]
    rows = [(label, totals[key], kind) for label, key, kind in SUMMARY]
    rows += [(f"评价等级：{LEVEL_NAMES[level]}", totals["reviews_by_level"][level], "") for level in ("5", "4", "3", "2", "1")]
    rows += [(f"{label}（截至报表生成时）", report["review_cases"][key], "") for label, key in NOW]
    return rows


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


def xlsx_bytes(rows: list[dict], title: str, head) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "评价明细"
    head(sheet, [label for _, label in FIELDS])
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
