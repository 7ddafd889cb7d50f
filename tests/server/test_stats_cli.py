"""`hallq stats` and `hallq report` (issue 13): the days' figures rebuilt, shown, and the month's
report written as an Excel workbook and CSV files, on the hand-made Monday (support/figures.py)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlmodel import select

from hallq.cli import cli
from hallq.core.models import AuditEntry
from hallq.core.stats.models import DayFigure
from support.figures import MONDAY, counts, hand_made_monday, rows


@pytest.fixture
def monday(hall, clock):
    return hand_made_monday(hall, clock)


def test_stats_rebuild_writes_every_finished_day_again_and_says_so(monday, clock, sqlite_url):
    clock.advance(days=1)
    monday.sweep("district")
    with monday.db.write() as session:  # figures gone (say, a table restored from an old backup)
        for r in session.exec(select(DayFigure)).all():
            session.delete(r)
    assert rows(monday) == {}
    # The command runs on the real clock, long after that Monday: a finished day.
    result = CliRunner().invoke(cli, ["--database-url", sqlite_url, "stats", "rebuild", "--hall", "district"])
    assert result.exit_code == 0, result.output
    assert f"district: 1 day(s) rolled up, {MONDAY} to {MONDAY}" in result.output
    assert counts(rows(monday)[(MONDAY, "hall", 0)]) == (3, 2, 2, 0, 1, 0, 1)
    with monday.db.read() as session:  # audited: which days, by whom, from where
        entry = session.exec(select(AuditEntry.target, AuditEntry.detail, AuditEntry.origin).where(AuditEntry.action == "stats.rebuild")).one()
    assert (entry.target, entry.detail, entry.origin.startswith("cli@")) == ("district", {"days": 1, "first": MONDAY, "last": MONDAY}, True)
    shown = CliRunner().invoke(cli, ["--database-url", sqlite_url, "stats", "show", "--hall", "district", "--since", MONDAY])
    assert shown.exit_code == 0, shown.output
    figures = json.loads(shown.output)
    assert (figures["tickets"], figures["cases"], figures["wait_p90"], figures["handling_p90"], figures["bad_reviews"]) == (3, 2, 14.0, 13.0, 1)
    bad = CliRunner().invoke(cli, ["--database-url", sqlite_url, "stats", "rebuild", "--hall", "nowhere"])
    assert bad.exit_code != 0 and "no hall 'nowhere'" in bad.output


def test_the_monthly_report_as_a_workbook_and_csv_files(monday, sqlite_url, tmp_path):
    """`hallq report --month 2026-11`: the hand-made Monday in November's workbook (Chinese
    headers, a sheet per level, frozen headers, native charts) and CSV files."""
    import csv

    from openpyxl import load_workbook

    result = CliRunner().invoke(cli, ["--database-url", sqlite_url, "report", "--month", "2026-11", "--hall", "district",
                                      "--xlsx", str(tmp_path / "nov.xlsx"), "--csv", str(tmp_path / "csv")])
    assert result.exit_code == 0, result.output
    assert "district 2026-11: 3 tickets, 2 cases in 21 working day(s)" in result.output
    book = load_workbook(tmp_path / "nov.xlsx")
    assert book.sheetnames == ["总览", "区域", "事项", "窗口", "人员", "时段", "好差评"]
    summary = {row[0]: row[1] for row in book["总览"].iter_rows(min_row=3, values_only=True)}
    assert book["总览"]["A1"].value.endswith(" 统计报表 2026-11-01 至 2026-11-30")
    assert (summary["工作日数"], summary["取号数"], summary["办件数"], summary["平均等候(分钟)"], summary["非常满意率"]) == (21, 3, 2, 9.0, 0.5)
    services = book["事项"]
    assert [c.value for c in services[1][:4]] == ["事项代码", "事项", "取号数", "办件数"] and services.freeze_panes == "A2"
    by_code = {row[0]: row for row in services.iter_rows(min_row=2, values_only=True)}
    assert (by_code["SI"][2], by_code["SI"][3], by_code["HR"][3], by_code["MI"][2]) == (2, 1, 1, 1)
    assert [row[0] for row in book["人员"].iter_rows(min_row=2, values_only=True)] == ["s1", "s7"]  # no display names: the user names
    for rate in ("满意率", "转办率"):
        assert book["总览"]["B" + str(3 + [r[0] for r in book["总览"].iter_rows(min_row=3, values_only=True)].index(rate))].number_format == "0.00%"
    assert summary["转办率"] == 0.3333  # A002 sent on from SI at window 1: one of the three legs served
    assert len(book["时段"]._charts) == 1 and len(book["事项"]._charts) == 1  # native charts
    with (tmp_path / "csv" / "services.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["事项代码", "事项", "取号数"] and {r[0]: r[2] for r in rows[1:]}["SI"] == "2"
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["hours.csv", "reviews.csv", "services.csv", "staff.csv", "totals.csv", "windows.csv", "zones.csv"]
    bad = CliRunner().invoke(cli, ["--database-url", sqlite_url, "report", "--month", "2026-13", "--xlsx", str(tmp_path / "x.xlsx")])
    assert bad.exit_code != 0 and "no such month" in bad.output
