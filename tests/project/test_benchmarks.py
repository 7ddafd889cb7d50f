"""Every benchmark's --smoke run: it starts, runs on public APIs, and prints its figures.

The figures' values are not checked (a slow machine is not a failure); that
each one is printed, and that a run that must not fail (duplicate ticket
numbers, lost messages) did not, is. Ports are found free here and passed in."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hallq.ports import free_port
from support.brokers import mosquitto_binary, require_redis
from support.project import ROOT

BENCHMARKS = ROOT / "benchmarks"
NUMBER = r"[\d.]+"


def smoke(script: str, *args: str, timeout: float = 180) -> str:
    """Run `benchmarks/<script> --smoke *args` with this Python; its output, once it has exited 0."""
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), "--smoke", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, f"{script} exited 0 but printed\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_every_benchmark_has_a_smoke_test():
    tested = set(re.findall(r'smoke\("(\w+\.py)"', Path(__file__).read_text(encoding="utf-8")))
    assert tested == {p.name for p in BENCHMARKS.glob("[!_]*.py")}


def test_docs_name_every_benchmark_and_only_those_there_are():
    named = set(re.findall(r"(\w+\.py)", (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")))
    scripts = {p.name for p in BENCHMARKS.glob("[!_]*.py")}
    assert scripts <= named
    assert not {n for n in named if re.fullmatch(r"(issue|call|simulate|machine|mqtt)_\w+\.py", n)} - scripts


def test_benchmarks_reach_no_private_name_of_hallq():
    for path in BENCHMARKS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"import[^\n]*\b_[a-z]\w*", text.replace("from _server import", "")), path.name
        assert not re.search(r"\b(service|halls|tx|runtime|db|policy)\._[a-z]\w*", text), path.name


def test_call_next_decision():
    out = smoke("call_next_decision.py")
    assert re.search(r"windows / waiting +10 / 100\n", out), out
    assert re.search(rf"decision p50 / p99 +{NUMBER} ms / {NUMBER} ms", out), out
    assert re.search(rf"call-next txn p50 / p99 +{NUMBER} ms / {NUMBER} ms", out), out


def test_wait_play():
    out = smoke("wait_play.py")
    assert re.search(rf"one play: p50 {NUMBER} ms, p99 {NUMBER} ms, max {NUMBER} ms; it placed 30 waiting tickets and 15 probes", out), out
    for label in ("simple estimate", "predictor"):
        assert re.search(rf"issue, {label}.*: mean {NUMBER} ms", out), out


def test_simulate_decision():
    out = smoke("simulate_decision.py")
    for figure in ("decision p50 / p99", "policy choice p50 / p99", "call-next txn p50 / p99"):
        assert re.search(rf"{figure} +{NUMBER} ms / {NUMBER} ms", out), out
    assert re.search(r"predict all waiting +\d+ ms median \(\d+ tickets\)", out), out
    assert re.search(rf"balancer look \+ propose +{NUMBER} ms median", out), out


def test_simulate_targets(tmp_path):
    out = smoke("simulate_targets.py", "--jobs", "1", "--out", str(tmp_path))
    assert "## flat" in out and "## Targets" in out, out
    assert re.search(rf"## town \({NUMBER} min; {NUMBER} CPU seconds per simulated day of one policy\)", out), out
    assert re.search(rf"flat: pooled within 10% of Erlang C +pooled ÷ Erlang C = {NUMBER}", out), out
    figures = json.loads((tmp_path / "town.json").read_text(encoding="utf-8"))
    assert set(figures["policies"]) == {"dedicated", "fqm", "pooled", "hallq", "hallq+balancer"}


def test_machine_jitter():
    out = smoke("machine_jitter.py")
    for clock in ("wall clock", "thread CPU"):
        assert re.search(rf"{clock} +units=\d+ +p50={NUMBER} ms +p99={NUMBER} ms +p99.9={NUMBER} ms", out), out


def test_issue_tickets_engine():
    out = smoke("issue_tickets_engine.py")
    for threads in (r" 4 threads", r" 1 thread "):
        assert re.search(rf"{threads} +tickets issued 200 \(0 errors\) +throughput \d+ tickets/s +duplicate numbers 0", out), out


def test_issue_tickets_http_on_the_ports_given():
    port, mqtt_port = free_port(), free_port()
    out = smoke("issue_tickets_http.py", "--port", str(port), "--mqtt-port", str(mqtt_port))
    assert f"hallq serve on 127.0.0.1:{port}, its MQTT broker on 127.0.0.1:{mqtt_port}" in out
    assert "tickets issued     40 (0 errors)" in out and "duplicate numbers  0" in out, out
    assert "GET /api/v1/halls  40 answered (0 errors)" in out, out
    assert re.search(r"throughput +\d+ tickets/s", out) and re.search(r"throughput +\d+ requests/s", out), out


def latency_line(label: str) -> str:
    return rf"{re.escape(label)} +screens=3 presses=5 messages=15/15 +p50={NUMBER} ms +p99={NUMBER} ms +max={NUMBER} ms"


def test_window_actions_on_the_ports_given():
    port, mqtt_port = free_port(), free_port()
    out = smoke("window_actions.py", "--port", str(port), "--mqtt-port", str(mqtt_port))
    assert f"hallq serve on 127.0.0.1:{port}, its MQTT broker on 127.0.0.1:{mqtt_port}" in out
    assert re.search(r"cycles +\d+ in [\d.]+ s \(0 errors\)", out) and "tickets called twice 0" in out, out
    assert re.search(r"throughput +\d+ call\+complete cycles/s", out), out
    assert re.search(r"server CPU +[\d.]+ ms per cycle", out), out


def test_device_flood_on_the_port_given():
    port = free_port()
    out = smoke("device_flood.py", "--mqtt-port", str(port))
    assert f"embedded broker (amqtt) listens on 127.0.0.1:{port}" in out
    for phase in ("alone", "during flood"):
        assert re.search(rf"quiet device {phase} +requests=30  p50={NUMBER} ms  p99={NUMBER} ms", out), out
    assert re.search(r"flood of \d+ answered .*rate_limited=\d+", out) and "quiet requests unanswered  0" in out, out


def test_device_flood_through_mosquitto():
    mosquitto_binary()  # skips without it (fails in CI)
    port = free_port()
    out = smoke("device_flood.py", "--mosquitto", "--mqtt-port", str(port))
    assert f"mosquitto (generated configuration) listens on 127.0.0.1:{port}" in out
    assert re.search(r"flood of \d+ answered .*rate_limited=\d+", out) and "quiet requests unanswered  0" in out, out


def test_mqtt_latency_embedded_broker_on_the_port_given():
    port = free_port()
    out = smoke("mqtt_latency.py", "--only", "embedded", "--mqtt-port", str(port))
    assert f"embedded broker (amqtt) listens on 127.0.0.1:{port}" in out
    assert re.search(latency_line("embedded broker (amqtt)"), out), out


def test_mqtt_latency_reference_mosquitto_on_the_port_given():
    mosquitto_binary()  # skips without Mosquitto; in CI its absence fails
    port = free_port()
    out = smoke("mqtt_latency.py", "--only", "mosquitto", "--mqtt-port", str(port), "--system-mosquitto-port", "0")
    assert f"mosquitto (reference conf) listens on 127.0.0.1:{port}" in out
    assert re.search(latency_line("mosquitto (reference conf)"), out), out


@pytest.mark.parametrize("script", ["issue_tickets_http.py", "mqtt_latency.py", "window_actions.py"])
def test_a_port_taken_is_a_plain_error(script):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        extra = {"issue_tickets_http.py": ["--get"], "mqtt_latency.py": ["--only", "embedded"], "window_actions.py": []}[script]
        proc = subprocess.run([sys.executable, str(BENCHMARKS / script), "--smoke", *extra, "--mqtt-port", str(port)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert f"{port} on 127.0.0.1 is already in use; choose another with --mqtt-port" in proc.stderr, proc.stderr[-2000:]


def test_report_benchmark_smoke():
    out = smoke("report.py")
    for label in ("history ", "stats rebuild ", "month report + workbook ", "stats API (month) ", "issue + call-next + complete "):
        assert label in out, out
    assert re.search(rf"p99 {NUMBER} ms", out) and re.search(rf"ratio {NUMBER}", out), out


def test_report_benchmark_smoke_on_postgresql(pg_url):
    out = smoke("report.py", "--postgres", pg_url)  # the server of the test's database: it makes its own there
    assert "PostgreSQL at " in out and re.search(rf"p99 {NUMBER} ms", out) and re.search(rf"ratio {NUMBER}", out), out


def test_seed_month_smoke():
    out = smoke("seed_month.py")
    assert "hallq report agrees with the simulator on every figure" in out, out
    # Two of November's 21 working days of the town scenario, nine in ten of those served rating.
    assert re.search(r"working_days +21 +21", out) and re.search(r"reviews +(\d+) +\1", out), out


def city_line(devices: int, browsers: int) -> str:
    """A level's line with every device and browser connected (a browser may have needed the second try
    the pages' client makes too: the run goes on a busy machine) and every call and request answered."""
    return (rf"devices +{devices}/{devices} +browsers +{browsers}/{browsers} +(\(\d+ retried after [^)]*\) +)?call→screen +{NUMBER} / +{NUMBER} ms"
            rf" +call→browser +{NUMBER} / +{NUMBER} ms +calls 4 \(failed 0\) +requests \d+ unanswered 0 +CPU \d+% +RSS \d+ MB")


def test_city_load_on_the_embedded_broker():
    out = smoke("city_load.py")
    assert re.search(r"this checkout embedded +1w sqlite +" + city_line(8, 4), out), out


def test_city_load_through_mosquitto_with_two_workers():
    """Two server processes on Mosquitto: every device request answered (once: the devices' client
    would count a second answer for nothing, the tests in tests/mqtt prove it), calls reach the
    browsers of either process."""
    mosquitto_binary()  # skips without it (fails in CI)
    out = smoke("city_load.py", "--broker", "mosquitto", "--workers", "2", "--redis-url", require_redis(), timeout=240)
    assert re.search(r"this checkout mosquitto +2w sqlite +" + city_line(8, 4), out), out



def device_request_figures(out: str, database: str) -> None:
    """Each kind of request answered ok (the script stops on any other answer), its cost counted; a status
    report, the bulk of a city's requests, costs six statements or fewer: BEGIN, the device, an earlier
    delivery, the log with its answer, the device's row when it changed, COMMIT."""
    for kind in ("status", "issue_ticket", "call_next"):
        assert re.search(rf"this checkout +{database} +{kind} +\d+ requests/s +{NUMBER} / +{NUMBER} ms +{NUMBER} statements", out), out
    status = re.search(rf"this checkout +{database} +status .* ([\d.]+) statements", out)
    assert float(status.group(1)) <= 6, out


def test_device_requests():
    device_request_figures(smoke("device_requests.py"), "sqlite")


def test_device_requests_on_postgresql(pg_url):
    device_request_figures(smoke("device_requests.py", "--postgres", pg_url), "postgresql")
