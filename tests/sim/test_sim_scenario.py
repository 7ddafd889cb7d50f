"""Scenario files and the visitors they produce: the shipped halls have the
figures the reports give, bad files get structured errors, and a seed fixes
the day (common random numbers)."""

from __future__ import annotations

import statistics

import pytest

from hallq.core.errors import Invalid
from hallq.sim.scenario import load_scenario, shipped_scenarios
from hallq.sim.visitors import day_visitors, handling_minutes


def test_the_shipped_scenarios():
    assert {"seed-city", "district", "district-surge", "town", "flat"} <= set(shipped_scenarios())
    for name in shipped_scenarios():
        scenario = load_scenario(name)
        assert scenario.rates() and scenario.windows


def test_seed_city_has_the_reported_figures():
    city = load_scenario("seed-city")
    assert city.spec.visitors == 2551
    assert city.mean_handling() == pytest.approx(16.12, abs=0.01)
    assert len(city.windows) == 100 and len(city.services) == 5
    assert 1.35 <= city.peak_ratio() <= 1.45
    assert all(len(w.qualified) == 2 for w in city.windows)


def test_district_is_the_example_hall_with_two_qualifications_per_window():
    district = load_scenario("district")
    assert len(district.windows) == 20 and district.spec.visitors == 476
    assert all(len(w.qualified) == 2 for w in district.windows)
    surge = load_scenario("district-surge")
    assert [(s.service, s.factor) for s in surge.surges] == [("MI", 2.0)]


def test_district_web_is_a_long_chain_through_every_service_shared_by_the_surge():
    district = load_scenario("district")
    links = {frozenset(w.qualified) for w in district.windows}
    chain = ["SI", "TX", "RE", "HR", "BL", "HF", "CX", "MI"]
    assert sorted(chain) == sorted(district.services)
    for a, b in zip(chain, chain[1:] + chain[:1]):
        assert frozenset({a, b}) in links, f"no window links {a} and {b}"
    assert all(set(w.qualified.values()) == {1.0} for w in district.windows)  # full speed, as in the seed city
    surge = load_scenario("district-surge")
    assert [(w.number, w.main, w.qualified) for w in surge.windows] == [(w.number, w.main, w.qualified) for w in district.windows]


def write(tmp_path, text: str):
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


TINY = """
[scenario]
name = "tiny"
visitors = 40
[hall]
id = "tiny"
slug = "tiny"
name = "小厅"
hours = ["09:00-12:00"]
[[services]]
code = "A"
name = "甲"
prefix = "A"
handling_minutes = 8
[[windows]]
number = 1
name = "1号窗口"
services = { A = 1.0 }
[profile]
"09:00" = 1.0
[mix]
A = 1.0
"""


def test_a_hall_can_simulate_its_own_file(tmp_path):
    scenario = load_scenario(write(tmp_path, TINY))
    assert scenario.slug == "tiny"
    assert sum((b - a) * sum(r.values()) for a, b, r in scenario.rates()) == pytest.approx(40)


@pytest.mark.parametrize(
    "change, code",
    [
        (("A = 1.0\n", "B = 1.0\n"), "bad_scenario"),  # the mix names an unknown service
        (('visitors = 40', 'visitors = -3'), "bad_scenario"),
        (('"09:00" = 1.0', '"nine" = 1.0'), "bad_scenario"),
        (("[mix]", "[mix\n"), "bad_syntax"),
    ],
)
def test_bad_scenarios_get_structured_errors(tmp_path, change, code):
    old, new = change
    text = TINY[::-1].replace(old[::-1], new[::-1], 1)[::-1]  # the last occurrence
    with pytest.raises(Invalid) as err:
        load_scenario(write(tmp_path, text))
    assert err.value.code == code and err.value.message


def test_unknown_scenario_name():
    with pytest.raises(Invalid) as err:
        load_scenario("atlantis")
    assert err.value.code == "unknown_scenario" and "seed-city" in err.value.message


def test_a_seed_fixes_the_day():
    town = load_scenario("town")
    assert day_visitors(town, 7, 3) == day_visitors(town, 7, 3)
    assert day_visitors(town, 7, 3) != day_visitors(town, 8, 3)
    assert day_visitors(town, 7, 3) != day_visitors(town, 7, 4)


def test_the_day_has_the_expected_visitors_mix_and_handling():
    city = load_scenario("seed-city")
    days = [day_visitors(city, 1, d) for d in range(3)]
    count = statistics.mean(len(d) for d in days)
    assert count == pytest.approx(2551, rel=0.05)
    everyone = [v for d in days for v in d]
    share_a = sum(v.service == "A" for v in everyone) / len(everyone)
    assert share_a == pytest.approx(0.30, abs=0.02)
    assert statistics.mean(v.minutes for v in everyone) == pytest.approx(16.12, rel=0.05)
    assert all(v.arrival < 17 * 60 for v in everyone)  # issuing stops at 17:00


def test_handling_time_quantiles_have_the_configured_mean():
    grid = [(i + 0.5) / 20000 for i in range(20000)]
    for kind in ("lognormal", "exponential"):
        assert statistics.mean(handling_minutes(kind, 12.0, 0.6, u) for u in grid) == pytest.approx(12.0, rel=0.01)
    assert handling_minutes("fixed", 12.0, 0.6, 0.9) == 12.0
