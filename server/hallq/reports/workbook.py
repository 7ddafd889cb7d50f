"""A StatsReport (core/stats/service.py) as an Excel workbook and as CSV files.

The workbook has Chinese headers, one sheet per level (总览, 区域, 事项, 窗口, 人员, 时段), frozen
header rows, rates as percentages, and native charts (cases per service, tickets and mean wait
by hour of issue) that Excel and WPS draw themselves.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from hallq.core.reviews.ratings import LEVELS as RATING_LEVELS

# (key in the report, header): the figures every level has (definitions: docs/figures.md)
FIGURES = [
    ("tickets", "取号数"), ("cases", "办件数"), ("wait_mean", "平均等候(分钟)"), ("wait_median", "等候中位数(分钟)"),
    ("wait_p90", "等候P90(分钟)"), ("handling_mean", "平均办理(分钟)"), ("handling_p90", "办理P90(分钟)"),
    ("no_show_rate", "过号率"), ("walked_away_rate", "未叫离开率"), ("wait_promise_error", "等候预测误差(分钟)"),
    ("wait_simple_error", "简单估算误差(分钟)"),
    ("transfers", "转办数"), ("transfer_rate", "转办率"), ("reviews", "评价数"),
    ("active_rating_rate", "主动评价率"), ("five_star_rate", "非常满意率"), ("satisfaction_rate", "满意率"),
    ("bad_reviews", "差评数"), ("mean_score", "平均分"),
    ("reviews_box", "评价器评价数"), ("reviews_phone", "手机评价数"), ("appealed_removed", "申诉剔除数"),
    ("bad_cases", "差评工单数"), ("rectified", "已整改办结数"), ("rectified_on_time", "按期整改数"),
    ("rectification_rate", "差评整改率"), ("on_time_rectification_rate", "按期整改率"),
]
RATES = {"no_show_rate", "walked_away_rate", "transfer_rate", "active_rating_rate", "five_star_rate", "satisfaction_rate", "rectification_rate",
         "on_time_rectification_rate"}
# (key in the report, sheet and file name, the level's own columns)
LEVELS = [
    ("zones", "区域", "zones", [("zone", "区域代码"), ("name", "区域")]),
    ("services", "事项", "services", [("service", "事项代码"), ("name", "事项")]),
    ("windows", "窗口", "windows", [("window", "窗口号")]),
    ("staff", "人员", "staff", [("display_name", "姓名"), ("staff_no", "工号")]),
    ("hours", "时段", "hours", [("hour", "取号时段(时)")]),
]
TOTALS = [("working_days", "工作日数"), ("tickets_per_working_day", "日均取号"), ("cases_per_working_day", "日均办件")]
HEADER = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")


# The 好差评 sheet: (label, key in the report's totals, kind)
REVIEW_SUMMARY = [
    ("评价数", "reviews", ""), ("窗口评价器", "reviews_box", ""), ("手机扫码", "reviews_phone", ""),
    ("默认评价", "reviews_default", ""), ("主动评价率", "active_rating_rate", "rate"), ("非常满意率", "five_star_rate", "rate"),
    ("满意率", "satisfaction_rate", "rate"), ("差评数", "bad_reviews", ""), ("申诉剔除数", "appealed_removed", ""),
    ("差评工单数", "bad_cases", ""), ("已整改办结数", "rectified", ""), ("按期整改数", "rectified_on_time", ""),
    ("差评整改率", "rectification_rate", "rate"), ("按期整改率", "on_time_rectification_rate", "rate"),
]
CASES_NOW = [("工单未办结", "open"), ("工单已超期", "overdue"), ("工单即将到期", "due_soon"), ("申诉待审核", "appealed")]


def review_rows(report: dict) -> list[tuple[str, object, str]]:
    """The 好差评 sheet: the month's ratings by channel and level, the rates, the cases."""
    totals = report["totals"]
    rows = [(label, totals[key], kind) for label, key, kind in REVIEW_SUMMARY]
    rows += [(f"评价等级：{RATING_LEVELS[score]}", totals["reviews_by_level"][str(score)], "") for score in (5, 4, 3, 2, 1)]
    rows += [(f"{label}（截至报表生成时）", report["review_cases"][key], "") for label, key in CASES_NOW]
    return rows


def _title(report: dict) -> str:
    span = report["since"] if report["since"] == report["until"] else f"{report['since']} 至 {report['until']}"
    return f"{report['name']} 统计报表 {span}"


def _totals_rows(report: dict) -> list[tuple[str, object, str]]:
    totals = report["totals"]
    rows = [("工作日数", report["working_days"], "")]
    rows += [(label, totals[key], "") for key, label in TOTALS[1:]]
    rows += [(label, totals[key], "rate" if key in RATES else "") for key, label in FIGURES]
    return rows


def _level_rows(report: dict, key: str, own: list) -> tuple[list[str], list[list]]:
    header = [label for _, label in own] + [label for _, label in FIGURES]
    rows = [[row[k] for k, _ in own] + [row[k] for k, _ in FIGURES] for row in report[key]]
    return header, rows


def header_row(sheet, header: list[str], row: int = 1) -> None:
    for col, text in enumerate(header, start=1):
        cell = sheet.cell(row=row, column=col, value=text)
        cell.font, cell.fill = HEADER, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(col)].width = max(10, min(24, 2 * len(text) + 2))


def write_xlsx(report: dict, target) -> None:
    """Write the workbook to `target` (a path or a binary file)."""
    book = Workbook()
    summary = book.active
    summary.title = "总览"
    summary["A1"] = _title(report)
    summary["A1"].font = Font(bold=True, size=14)
    _label_values(summary, _totals_rows(report), first=2, width=20)
    rate_columns = {i for i, (key, _) in enumerate(FIGURES) if key in RATES}
    for key, title, _, own in LEVELS:
        sheet = book.create_sheet(title)
        header, rows = _level_rows(report, key, own)
        header_row(sheet, header)
        for r, values in enumerate(rows, start=2):
            for c, value in enumerate(values, start=1):
                cell = sheet.cell(row=r, column=c, value=value)
                if c - 1 - len(own) in rate_columns:
                    cell.number_format = "0.00%"
        sheet.freeze_panes = "A2"
        if rows:
            _charts(sheet, key, len(own), len(rows))
    # 好差评: the month's ratings by channel and level, the rates, the cases.
    _label_values(book.create_sheet("好差评"), review_rows(report), first=1, width=26)
    book.save(target)


def _label_values(sheet, rows: list[tuple[str, object, str]], *, first: int, width: int) -> None:
    """A sheet of (label, value, kind) rows under a 指标 / 数值 header on row `first`; rates as percentages."""
    header_row(sheet, ["指标", "数值"], row=first)
    sheet.column_dimensions["A"].width = width
    for i, (label, value, kind) in enumerate(rows, start=first + 1):
        sheet.cell(row=i, column=1, value=label)
        cell = sheet.cell(row=i, column=2, value=value)
        if kind == "rate":
            cell.number_format = "0.00%"
    sheet.freeze_panes = f"A{first + 1}"


def _charts(sheet, key: str, own: int, count: int) -> None:
    """Native charts: cases per service, per window and per staff member; tickets and mean wait per hour."""
    column = {k: own + 1 + i for i, (k, _) in enumerate(FIGURES)}
    name_column = {"services": 2, "windows": 1, "staff": 1}.get(key, 1)
    labels = Reference(sheet, min_col=name_column, min_row=2, max_row=count + 1)
    anchor = f"{get_column_letter(own + len(FIGURES) + 2)}2"
    if key == "hours":
        bars = BarChart()
        bars.title, bars.y_axis.title, bars.x_axis.title = "各时段取号数与平均等候", "取号数", "时"
        bars.add_data(Reference(sheet, min_col=column["tickets"], min_row=1, max_row=count + 1), titles_from_data=True)
        bars.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=count + 1))
        line = LineChart()
        line.add_data(Reference(sheet, min_col=column["wait_mean"], min_row=1, max_row=count + 1), titles_from_data=True)
        line.y_axis.axId, line.y_axis.title = 200, "分钟"
        line.y_axis.crosses = "max"
        bars += line
        bars.width, bars.height = 22, 10
        sheet.add_chart(bars, anchor)
        return
    if key == "zones":
        return
    bars = BarChart()
    bars.type = "bar"
    bars.title = {"services": "各事项办件数", "windows": "各窗口办件数", "staff": "各人员办件数"}[key]
    bars.add_data(Reference(sheet, min_col=column["cases"], min_row=1, max_row=count + 1), titles_from_data=True)
    bars.set_categories(labels)
    bars.width, bars.height = 18, max(7, 0.6 * count + 3)
    sheet.add_chart(bars, anchor)


def xlsx_bytes(report: dict) -> bytes:
    out = io.BytesIO()
    write_xlsx(report, out)
    return out.getvalue()


def write_csv(report: dict, directory: Path) -> list[Path]:
    """One CSV per level (UTF-8 with a byte-order mark, which Excel needs to read Chinese), and
    totals.csv; the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    path = directory / "totals.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        out = csv.writer(f)
        out.writerow(["指标", "数值"])
        out.writerow(["报表", _title(report)])
        for label, value, _ in _totals_rows(report):
            out.writerow([label, "" if value is None else value])
    written.append(path)
    path = directory / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        out = csv.writer(f)
        out.writerow(["指标", "数值"])
        out.writerows([[label, "" if value is None else value] for label, value, _ in review_rows(report)])
    written.append(path)
    for key, _, name, own in LEVELS:
        header, rows = _level_rows(report, key, own)
        path = directory / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8-sig") as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows([["" if v is None else v for v in row] for row in rows])
        written.append(path)
    return written
