"""The `hallq` command: serve, demo, hall load, user add, token create, db upgrade, stats, voice."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .config import Settings, load_settings
from .console import operator
from .core.errors import HallError


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _hallq(ctx: click.Context):
    """HallQ on the configured database, migrated to the latest schema."""
    from .assembly import build

    return build(_settings(ctx), migrate=True)


def _fail(exc: HallError) -> None:
    click.echo(f"error: {exc.message} ({exc.code})", err=True)
    sys.exit(1)


@click.group()
@click.option("--database-url", envvar=["HALLQ_DATABASE_URL", "DATABASE_URL"], default="", help="Overrides the configured database.")
@click.pass_context
def cli(ctx: click.Context, database_url: str) -> None:
    """HallQ: queue-and-window management for government service halls."""
    overrides = {"database_url": database_url} if database_url else {}
    try:
        ctx.obj = {"settings": load_settings(**overrides)}
    except Exception as exc:  # a broken config file or variable: say which
        raise click.ClickException(f"configuration error: {exc}") from None


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the database schema to the latest version."""
    from .migrate import current, upgrade

    url = _settings(ctx).effective_database_url
    upgrade(url)
    click.echo(f"database at revision {current(url)}")


@cli.group()
def hall() -> None:
    """Halls."""


@hall.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def hall_load(ctx: click.Context, file: Path) -> None:
    """Create or update a hall from its TOML/YAML file (today's tickets are kept)."""
    from .core.hallfile import parse_hall_file

    try:
        result = _hallq(ctx).halls.load_hall(parse_hall_file(file))
    except HallError as exc:
        _fail(exc)
    click.echo(f"hall {result['hall']} loaded: {result['services']} services, {result['windows']} windows")


@cli.group()
def user() -> None:
    """Accounts."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["staff", "manager", "admin", "device"]))
@click.option("--hall", "hall_slug", default=None, help="The hall's slug (required except for admins).")
@click.option("--display-name", default="", help="Name shown on the window screen.")
@click.option("--staff-no", default="", help="Staff number (工号).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_add(ctx, name, role, hall_slug, display_name, staff_no, password_stdin) -> None:
    """Create an account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        result = _hallq(ctx).office.add_user(
            name=name, role=role, password=password, hall=hall_slug, display_name=display_name, staff_no=staff_no
        )
    except HallError as exc:
        _fail(exc)
    where = f" in hall {result['hall']}" if result["hall"] else ""
    click.echo(f"user {result['name']} ({result['role']}){where} created")


@cli.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
@click.pass_context
def token_create(ctx, name, label) -> None:
    """Print a new API token for user NAME (shown once; send as 'Authorization: Bearer TOKEN')."""
    try:
        click.echo(_hallq(ctx).office.create_token(name, label, actor=operator()))
    except HallError as exc:
        _fail(exc)


@cli.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("archive")
@click.pass_context
def audit_archive(ctx) -> None:
    """Move audit lines past their retention (audit_retention_days, at least 180) to the archive folder now."""
    archiver = _hallq(ctx).archiver()
    files = archiver.run()
    for path in files:
        click.echo(f"archived {path}")
    click.echo(f"{len(files)} archive file(s) written to {archiver.directory}" if files else "nothing to archive")


@cli.group("stats")
def stats_group() -> None:
    """The hall's figures: each finished day rolled up from the tickets' journeys."""


def _halls_named(hallq, slug: str | None) -> list[str]:
    slugs = [h["slug"] for h in hallq.halls.halls()]
    if slug is not None and slug not in slugs:
        raise click.ClickException(f"no hall {slug!r} (there are: {', '.join(slugs) or 'none'})")
    return [slug] if slug else slugs


@stats_group.command("rebuild")
@click.option("--hall", "slug", help="One hall (default: every hall).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: the first with tickets).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default and latest: yesterday).")
@click.pass_context
def stats_rebuild(ctx, slug, since, until) -> None:
    """Roll up the finished days again from the tickets' journeys (after an upgrade, or a repair)."""
    hallq = _hallq(ctx)
    stats = hallq.stats
    actor = operator()
    for name in _halls_named(hallq, slug):
        bar: list = []

        def progress(days, name=name):
            bar.append(click.progressbar(length=len(days), label=f"{name}: {len(days)} day(s)", file=sys.stderr))
            bar[0].__enter__()
            return lambda day: bar[0].update(1)

        try:
            days = stats.rebuild(name, since=since and since.date(), until=until and until.date(), actor=actor, progress=progress)
        except HallError as exc:
            _fail(exc)
        finally:
            if bar:
                bar[0].__exit__(None, None, None)
        click.echo(f"{name}: {len(days)} day(s) rolled up" + (f", {days[0]} to {days[-1]}" if days else ""))


@cli.command("report")
@click.option("--month", required=True, help="The month, YYYY-MM.")
@click.option("--hall", "slug", help="One hall (default: every hall).")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Excel workbook here (with several halls: one file each, the hall's id added to the name).")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one CSV per level into this folder (with several halls: a folder each).")
@click.option("--ratings", "ratings_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the month's ratings (好差评) for the provincial platform into this folder: "
                   "ratings-HALL-MONTH.csv and .xlsx, one row per rating (docs/reviews.md).")
@click.pass_context
def report(ctx, month, slug, xlsx, csv_dir, ratings_dir) -> None:
    """The month's figures of a hall (or every hall) as an Excel workbook and CSV files, and its
    ratings for the provincial 好差评 platform."""
    import re

    from .core.stats.service import month_days
    from .reports.workbook import write_csv, write_xlsx

    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise click.BadParameter("YYYY-MM, e.g. 2026-11", param_hint="--month")
    try:
        since, until = month_days(*(int(x) for x in month.split("-")))
    except ValueError:
        raise click.BadParameter(f"no such month: {month}", param_hint="--month") from None
    if xlsx is None and csv_dir is None and ratings_dir is None:
        raise click.UsageError("say where to write it: --xlsx FILE, --csv DIR, --ratings DIR, or several")
    hallq = _hallq(ctx)
    names = _halls_named(hallq, slug)
    several = len(names) > 1
    steps = [(name, part) for name in names for part in ("figures", "xlsx", "csv", "ratings")
             if part == "figures" or (part == "xlsx" and xlsx) or (part == "csv" and csv_dir) or (part == "ratings" and ratings_dir)]
    written: list[Path] = []
    figures: dict[str, dict] = {}
    with click.progressbar(steps, label=f"report {month}", file=sys.stderr,
                           item_show_func=lambda step: step and f"{step[0]}: {step[1]}") as bar:
        for name, part in bar:
            try:
                if part == "figures":
                    figures[name] = hallq.stats.report(name, since, until, viewer=operator())
                elif part == "xlsx":
                    target = xlsx.with_name(f"{xlsx.stem}-{name}{xlsx.suffix or '.xlsx'}") if several else xlsx
                    target.parent.mkdir(parents=True, exist_ok=True)
                    write_xlsx(figures[name], target)
                    written.append(target)
                elif part == "csv":
                    written += write_csv(figures[name], csv_dir / name if several else csv_dir)
                else:
                    written += _write_ratings(hallq, name, month, since, until, ratings_dir)
            except HallError as exc:
                _fail(exc)
    for name in names:
        t = figures[name]["totals"]
        click.echo(f"{name} {month}: {t['tickets']} tickets, {t['cases']} cases in {figures[name]['working_days']} working day(s)")
    for path in written:
        click.echo(f"wrote {path}")


def _write_ratings(hallq, name: str, month: str, since, until, directory: Path) -> list[Path]:
    """The month's ratings of hall `name` for the provincial platform, as CSV and Excel."""
    from .reports import ratings

    data = hallq.reviews.export(name, since, until, viewer=operator())
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = directory / f"ratings-{name}-{month}.csv", directory / f"ratings-{name}-{month}.xlsx"
    csv_path.write_bytes(ratings.csv_bytes(data["rows"]))
    xlsx_path.write_bytes(ratings.xlsx_bytes(data["rows"], f"{data['name']} 好差评 {month}"))
    return [csv_path, xlsx_path]


@cli.group("cases")
def cases_group() -> None:
    """好差评 rectification cases."""


@cases_group.command("digest")
@click.option("--hall", "slug", help="One hall (default: every hall).")
@click.option("--json", "as_json", is_flag=True, help="As JSON (for a mail or chat job).")
@click.pass_context
def cases_digest(ctx, slug, as_json) -> None:
    """The day's digest of bad-rating cases that need a manager: past their deadline, due soon,
    visitors not called back in time (run it each morning, e.g. from cron, and mail it)."""
    import json

    hallq = _hallq(ctx)
    digests = []
    for name in _halls_named(hallq, slug):
        try:
            digests.append(hallq.reviews.digest(name, viewer=operator()))
        except HallError as exc:
            _fail(exc)
    if as_json:
        click.echo(json.dumps(digests, ensure_ascii=False, indent=2))
        return
    labels = {"overdue": "overdue", "due_soon": "due soon", "callback_late": "not called back"}
    for d in digests:
        c = d["counts"]
        click.echo(f"{d['hall']} {d['today']}: {c['overdue']} overdue, {c['due_soon']} due soon, {c['callback_late']} not called back in time")
        for key, label in labels.items():
            for case in d[key]:
                r = case["review"]
                click.echo(f"  {label:<16} #{case['id']} {r['number']} ({r['day']}) {r['level']} {'、'.join(r['reasons']) or '-'}"
                           f" · due {case['due']} · {case['state']} · window {r['window']} {r['staff'] or ''}".rstrip())


@stats_group.command("show")
@click.option("--hall", "slug", required=True, help="The hall.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: today).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today).")
@click.pass_context
def stats_show(ctx, slug, since, until) -> None:
    """The hall's headline figures for a day or a range, as JSON."""
    import json

    hallq = _hallq(ctx)
    _halls_named(hallq, slug)
    stats = hallq.stats
    today = stats.today(slug)
    first, last = (since.date() if since else today), (until.date() if until else (since.date() if since else today))
    try:
        figures = stats.figures(slug, first, last)
    except HallError as exc:
        _fail(exc)
    click.echo(json.dumps({"hall": slug, "since": first.isoformat(), "until": last.isoformat(),
                           **figures.get(("hall", 0), {})}, ensure_ascii=False, indent=2))


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default from settings: 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default from settings: 5000).")
@click.option("--mqtt-port", default=None, type=int, help="Port of the embedded MQTT broker (default from settings: 1883).")
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="Server processes (default from settings: 1; more need REDIS_URL).")
@click.pass_context
def serve(ctx, host, port, mqtt_port, workers) -> None:
    """Run the HallQ server."""
    from .assembly import build
    from .mqtt import broker as mqtt_broker
    from .mqtt import runtime as mqtt
    from .web import create_app
    from .web.server import PortTaken
    from .web.server import serve as run

    settings = _settings(ctx)
    if mqtt_port:
        settings = settings.model_copy(update={"mqtt_port": mqtt_port})
    if workers:
        settings = settings.model_copy(update={"workers": workers})
    if settings.workers > 1 and not settings.redis_url:
        raise click.ClickException(
            f"{settings.workers} workers need REDIS_URL: events from one server process must reach browsers "
            "connected to another (or set HALLQ_WORKERS=1)")
    try:
        mqtt.check_port(settings)
    except (mqtt_broker.PortTaken, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    host = host or settings.host
    port = port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})  # what the dispensers' QR codes are built from
    _hallq(ctx).db.dispose()  # migrate before serving
    broker = None
    if settings.workers > 1 and settings.mqtt_enabled and not settings.mqtt_url:
        from .mqtt.broker_process import BrokerProcess

        broker = BrokerProcess(settings).start()
        settings = settings.model_copy(update={"mqtt_url": broker.url})
    click.echo(f"HallQ serving on http://{host}:{port}/  (API: /api/v1, OpenAPI: /api/openapi.json)")
    if settings.mqtt_enabled:
        click.echo(f"tracker QR codes point at {settings.tracker_base_url}; set public_base_url to change")
    try:
        in_process = settings.mqtt_max_connections if settings.mqtt_enabled and not settings.mqtt_url else 0
        run(lambda: create_app(hallq=build(settings)), host=host, port=port, threads=settings.threads, workers=settings.workers,
            live_connections=settings.live_connections, mqtt_devices=in_process, on_worker_start=_start_background)
    except PortTaken as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if broker is not None:
            broker.stop()


def _start_background(app) -> None:
    """In each server process, once it boots: the MQTT side, and the balancer (not waiting for a first request)."""
    from .mqtt import runtime as mqtt

    hallq = app.extensions["hallq"]
    mqtt.start_for(hallq)
    if hallq.balancer_runner is not None:
        hallq.balancer_runner.autostart()
    hallq.audit_archiver = hallq.archiver()
    hallq.audit_archiver.start()


@cli.command()
@click.option("--host", default="127.0.0.1", help="Address to listen on.")
@click.option("--port", default=None, type=int, help="HTTP port (default: 5000, or a free one if taken).")
@click.option("--rate", default=1.0, type=float, help="Speed of the simulated hall (2 = twice as busy).")
@click.option("--mqtt-port", default=None, type=int, help="Embedded MQTT broker port (default: 1883, or a free one if taken).")
@click.option("--voice", is_flag=True, help="Say the calls on this computer's speaker (aplay or paplay), as a hall's call screen does.")
@click.pass_context
def demo(ctx, host, port, rate, mqtt_port, voice) -> None:
    """Load the example hall and run it live, with simulated visitors, staff and devices."""
    from .demo import run_demo

    run_demo(_settings(ctx), host=host, port=port, rate=rate, mqtt_port=mqtt_port, voice=voice)


def _register_optional_commands() -> None:
    """Commands from other parts of HallQ, when they are installed."""
    from .mqtt.commands import broker_config, device
    from .voice.commands import voice

    cli.add_command(device)
    cli.add_command(broker_config)
    cli.add_command(voice)
    try:
        from .sim.cli import simulate
    except ImportError:
        return
    cli.add_command(simulate)


_register_optional_commands()


def main() -> None:
    cli(prog_name="hallq")


if __name__ == "__main__":
    main()
