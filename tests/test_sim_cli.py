"""`hallq simulate` as a click command: the table, the JSON figures and clear errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

from hallq.sim.cli import simulate


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
