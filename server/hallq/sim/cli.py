"""`hallq simulate`: compare calling policies on simulated hall days.

The main `hallq` command registers this with `cli.add_command(simulate)`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..core.errors import HallError
from .layouts import LAYOUTS
from .report import table
from .runner import DEFAULT_POLICIES, simulate as run_simulation
from .scenario import load_scenario, scenario_descriptions, shipped_scenarios


@click.command("simulate")
@click.option("--scenario", "scenario_ref", help=f"A shipped scenario ({', '.join(shipped_scenarios())}) or a scenario file; "
              "without it, the shipped scenarios are listed.")
@click.option("--policy", "policies", multiple=True, type=click.Choice(list(LAYOUTS)), help="Policy to simulate (repeatable); default: all.")
@click.option("--days", type=click.IntRange(1, 10_000), default=5, show_default=True, help="Working days to simulate.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the random visitors (same seed, same days).")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Days simulated in parallel processes.")
@click.option("--predict-every", type=click.IntRange(1, 1000), default=1, show_default=True, help="Predict the wait of every n-th ticket.")
@click.option("--keep", "keep_path", type=click.Path(dir_okay=False, writable=True),
              help="Keep the simulated days in this SQLite file (one policy), for `hallq report` to read.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True), help="Write the figures to this JSON file.")
def simulate(scenario_ref, policies, days, seed, jobs, predict_every, json_path, keep_path):
    """Run whole hall days through the engine under several policies and print a table."""
    if not scenario_ref:
        click.echo(scenarios_list())
        return
    try:
        scenario = load_scenario(scenario_ref)
    except HallError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    chosen = list(policies) or DEFAULT_POLICIES
    total = days * len(chosen)
    show = total > 1 and sys.stderr.isatty() or total >= 10

    with click.progressbar(length=total, label=f"simulating {scenario.name}", file=sys.stderr) if show else _Quiet() as bar:

        def progress(result):
            bar.update(1)

        try:
            figures = run_simulation(scenario, chosen, days=days, seed=seed, jobs=jobs, predict_every=predict_every, progress=progress,
                                     keep=f"sqlite:///{Path(keep_path).resolve()}" if keep_path else None)
        except HallError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from None
    click.echo(table(scenario, figures["policies"], figures["bounds"]))
    if json_path:
        Path(json_path).write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(f"figures written to {json_path}")
    if keep_path:
        first, last = scenario.day(0), scenario.day(days - 1)
        click.echo(f"the days {first} to {last} are kept in {keep_path}; the hall's own figures:\n"
                   f"  HALLQ_DATABASE_URL=sqlite:///{Path(keep_path).resolve()} hallq report --hall {scenario.hall.hall.slug} "
                   f"--month {first:%Y-%m} --xlsx report.xlsx")


def scenarios_list() -> str:
    """The shipped scenarios, one a line with its description, and how to run one."""
    described = scenario_descriptions()
    width = max(map(len, described), default=0)
    lines = ["Shipped scenarios (run one with `hallq simulate --scenario NAME`, or give a scenario .toml file):"]
    lines += [f"  {name:<{width}}  {text}" for name, text in described.items()]
    return "\n".join(lines)


class _Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass
