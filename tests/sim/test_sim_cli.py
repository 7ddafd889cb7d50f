"""`hallq simulate` as a click command: the table, the JSON figures and clear errors."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from hallq.sim.cli import simulate
from hallq.sim.report import bounds, table
from hallq.sim.scenario import load_scenario


def test_simulate_prints_a_table_and_writes_the_figures(tmp_path):
    out = tmp_path / "figures.json"
    result = CliRunner().invoke(
        simulate, ["--scenario", "town", "--policy", "pooled", "--policy", "hallq", "--days", "1", "--seed", "4", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "pooled" in result.output and "hallq" in result.output and "fluid" in result.output
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["scenario"] == "town" and figures["days"] == 1 and figures["seed"] == 4
    for policy in ("pooled", "hallq"):
        p = figures["policies"][policy]
        assert p["mean_wait"] >= 0 and p["p95_wait"] >= 0
        assert set(p["per_service"]) <= {"SI", "CA", "AG"} and p["per_service"]
        assert all("p95_wait" in s for s in p["per_service"].values())
        assert 0 < p["utilisation"] <= 1
    assert "prediction" in figures["policies"]["hallq"]
    bounds = figures["bounds"]
    assert {"erlang_c_wait", "fluid_bound_wait", "fluid_fcfs_wait"} <= set(bounds)
    assert figures["bound_holds"] == {"pooled": True, "hallq": True}


def test_the_same_seed_gives_the_same_table():
    args = ["--scenario", "town", "--policy", "fqm", "--days", "1", "--seed", "9"]
    first, second = CliRunner().invoke(simulate, args), CliRunner().invoke(simulate, args)
    assert first.exit_code == 0 and first.output == second.output


def test_unknown_scenario_and_policy_are_refused_clearly(tmp_path):
    result = CliRunner().invoke(simulate, ["--scenario", "atlantis"])
    assert result.exit_code != 0 and "unknown_scenario" in result.output
    result = CliRunner().invoke(simulate, ["--scenario", "town", "--policy", "lottery"])
    assert result.exit_code != 0 and "lottery" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario\n", encoding="utf-8")
    result = CliRunner().invoke(simulate, ["--scenario", str(bad)])
    assert result.exit_code != 0 and "bad_syntax" in result.output


def test_without_a_scenario_the_shipped_ones_are_listed_with_what_they_are():
    result = CliRunner().invoke(simulate, [])
    assert result.exit_code == 0, result.output
    assert "--scenario" in result.output
    for name in ("town", "district", "district-surge", "flat", "seed-city"):
        assert re.search(rf"^  {re.escape(name)}\s+\S.+$", result.output, re.M), f"{name} not listed with a description"
    assert "Town centre: 3 windows" in result.output


def test_the_table_explains_every_column():
    result = CliRunner().invoke(simulate, ["--scenario", "town", "--policy", "hallq", "--days", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("policy"))
    columns = re.findall(r"worst p95|pred MAE|\S+", header)[1:]
    assert columns == ["days", "mean", "p95", "worst p95", "fair", "util", "expired", "moves", "pred MAE", "simple", "clear"]
    legend = lines[lines.index(header):]
    for column in columns:
        assert any(re.match(rf"  {re.escape(column)}\s{{2,}}\S", line) for line in legend), f"no legend for {column!r}"


def test_a_policy_below_the_fluid_bound_is_explained_in_plain_words():
    scenario = load_scenario("town")
    refs = bounds(scenario)
    refs["fluid_bound_wait"] = 5.0  # as if the hall were busy enough to make everyone wait at least 5 minutes
    summary = {"days": 1, "mean_wait": 3.0, "p95_wait": 8.0, "worst_service_p95": 9.0, "fairness": 1.1,
               "utilisation": 0.7, "expired": 0, "balancer_moves": 0}
    text = table(scenario, {"pooled": summary}, refs)
    assert "BELOW THE FLUID BOUND: pooled" in text
    after = text.split("BELOW THE FLUID BOUND: pooled", 1)[1]
    assert "lower than the least any order of calling can give" in after and "--days" in after


def test_kept_days_are_the_engines_own_record_for_the_halls_figures(tmp_path):
    from sqlmodel import func, select

    from hallq.core.models import Ticket
    from hallq.db import Database

    kept = tmp_path / "town.db"
    out = tmp_path / "figures.json"
    result = CliRunner().invoke(simulate, ["--scenario", "town", "--policy", "hallq", "--days", "2", "--keep", str(kept), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "hallq report --hall town --month 2026-11" in result.output  # says how to read them
    figures = json.loads(out.read_text(encoding="utf-8"))["policies"]["hallq"]
    db = Database.from_url(f"sqlite:///{kept}")
    with db.read() as session:
        days = dict(session.exec(select(Ticket.business_date, func.count()).group_by(Ticket.business_date)).all())
    db.dispose()
    # The scenario's first two working days (Mon 23 and Tue 24 Nov 2026), every ticket the simulator took.
    assert sorted(str(d) for d in days) == ["2026-11-23", "2026-11-24"]
    assert sum(days.values()) == figures["tickets"]

    result = CliRunner().invoke(simulate, ["--scenario", "town", "--days", "1", "--keep", str(tmp_path / "two.db")])
    assert result.exit_code != 0 and "keep_one_policy" in result.output  # every policy by default: which one to keep?


def test_a_simulated_month_s_ratings_for_the_platform_match_its_figures(tmp_path):
    """Issue 14: `hallq report --ratings` on simulated days: one row per rating, in a workbook
    openpyxl opens, and its counts are the month's 好差评 figures."""
    from collections import Counter

    from openpyxl import load_workbook

    from hallq.cli import cli

    kept = tmp_path / "town.db"
    result = CliRunner().invoke(simulate, ["--scenario", "town", "--policy", "hallq", "--days", "2", "--keep", str(kept)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["--database-url", f"sqlite:///{kept}", "report", "--month", "2026-11", "--hall", "town",
                                      "--xlsx", str(tmp_path / "nov.xlsx"), "--ratings", str(tmp_path / "platform")])
    assert result.exit_code == 0, result.output
    summary = {row[0]: row[1] for row in load_workbook(tmp_path / "nov.xlsx")["好差评"].iter_rows(min_row=2, values_only=True)}
    sheet = load_workbook(tmp_path / "platform" / "ratings-town-2026-11.xlsx")["评价明细"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    rated = [dict(zip(header, row)) for row in rows]
    levels = Counter(r["评价等级"] for r in rated)
    assert summary["评价数"] == len(rated) > 0
    assert [summary[f"评价等级：{name}"] for name in ("非常满意", "满意", "基本满意", "不满意", "非常不满意")] == [levels[s] for s in (5, 4, 3, 2, 1)]
    assert summary["差评数"] == levels[1] + levels[2] == summary["差评工单数"] == sum(1 for r in rated if r["整改工单号"])
    assert summary["窗口评价器"] == sum(r["评价渠道"] == "窗口评价器" for r in rated)
    assert {r["办件日期"] for r in rated} == {"2026-11-23", "2026-11-24"}
    csv_rows = (tmp_path / "platform" / "ratings-town-2026-11.csv").read_text(encoding="utf-8-sig").splitlines()
    assert csv_rows[0].startswith("评价编号,服务大厅编码") and len(csv_rows) == len(rated) + 1
