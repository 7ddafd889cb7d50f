"""Scenario files: a hall (inline, or a hall file by path) plus how its days go.

A scenario is TOML in the hall file's family. Besides the hall file's own
sections ([hall], [[zones]], [[services]], [[windows]]) it has:

    [scenario]       name, visitors per day, handling distribution, no-shows, classes...
    [profile]        arrival rate relative to the day's mean, from each "HH:MM" on
    [mix]            share of visitors per service code
    [targets]        service-level target in minutes per service (optional)
    [[window_groups]]  many windows at once: numbers = "1-21", services, main, qualified
    [[staffing]]     main services and qualifications of windows from a hall file
    [[breaks]]       each window takes `minutes` off somewhere between `from` and `to`
    [[surges]]       a service's arrivals multiplied by `factor` between `from` and `to`
    [balancer]       settings of the live balancer (see core/balancer/balancer.py)

The shipped scenarios live in hallq/examples/scenarios/ and are found by name.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from pydantic import ValidationError

from ..core import calendar, clock
from ..core.errors import Invalid
from ..core.hallfile import HallFile, parse_hall_file
from .scenario_file import BreakSpec, ScenarioFile, ScenarioSpec, SurgeSpec, minute_of_day, parse_numbers

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "examples" / "scenarios"


@dataclass(frozen=True)
class WindowPlan:
    """One window of the scenario: what it serves at first, its main services, its staff's skills."""

    number: int
    services: dict[str, float]  # as the hall file configures it
    main: frozenset[str]
    qualified: dict[str, float]  # service → proficiency (speed relative to main services)


@dataclass(frozen=True)
class Break:
    window: int
    start: float  # minute of the day
    minutes: float


@dataclass
class Scenario:
    spec: ScenarioSpec
    hall: HallFile
    windows: list[WindowPlan]
    handling: dict[str, float]  # service → mean handling minutes at full speed
    mix: dict[str, float]  # normalised
    profile: list[tuple[float, float]]  # (minute of day, relative rate), sorted
    targets: dict[str, float]
    surges: list[SurgeSpec]
    breaks: list[Break]
    balancer: dict
    source: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def slug(self) -> str:
        return self.hall.hall.slug

    @property
    def tz(self) -> str:
        return self.hall.hall.timezone

    @property
    def services(self) -> list[str]:
        return [s.code for s in self.hall.services]

    def day(self, index: int) -> date:
        """The index-th working day of the hall's calendar from the first day."""
        return calendar.of_hall(self.hall.hall).add_working_days(self.spec.first_day, index)

    def midnight(self, day: date) -> datetime:
        """UTC moment of the hall's local midnight starting `day`."""
        return clock.to_utc(datetime.combine(day, time(0), tzinfo=clock.zone(self.tz)))

    def open_minutes(self) -> tuple[float, float]:
        """(opening, closing) as minutes of the day."""
        spans = clock.parse_hours(self.hall.hall.hours)
        return spans[0].start.hour * 60 + spans[0].start.minute, _span_end(spans[-1])

    def spans(self) -> list[tuple[float, float]]:
        """The hall's opening hours as (start, end) minutes of the day."""
        return [(s.start.hour * 60 + s.start.minute, _span_end(s)) for s in clock.parse_hours(self.hall.hall.hours)]

    def issuing(self, service: str, minute: float) -> bool:
        """Whether the engine issues tickets of this service at this minute of the day."""
        spec = next(s for s in self.hall.services if s.code == service)
        spans = clock.parse_hours(spec.hours or self.hall.hall.hours)
        stop = self.hall.hall.stop_issuing_minutes_before_close
        for span in spans:
            start = span.start.hour * 60 + span.start.minute
            if start <= minute < _span_end(span) - stop:
                return True
        return False

    def relative_rate(self, minute: float) -> float:
        rate = 0.0
        for start, r in self.profile:
            if start <= minute:
                rate = r
        return rate

    def surge_factor(self, service: str, minute: float) -> float:
        f = 1.0
        for s in self.surges:
            if s.service == service and minute_of_day(s.start) <= minute < minute_of_day(s.end):
                f *= s.factor
        return f

    def segments(self) -> list[tuple[float, float]]:
        """Minute boundaries where any rate may change, as consecutive (start, end) pairs."""
        opening, closing = self.open_minutes()
        cuts = {opening, closing}
        cuts.update(m for m, _ in self.profile if opening < m < closing)
        spans = [clock.parse_hours(s.hours or self.hall.hall.hours) for s in self.hall.services]
        stop = self.hall.hall.stop_issuing_minutes_before_close
        for service_spans in spans:
            for span in service_spans:
                cuts.add(span.start.hour * 60 + span.start.minute)
                cuts.add(_span_end(span) - stop)
                cuts.add(_span_end(span))
        for s in self.surges:
            cuts.update((minute_of_day(s.start), minute_of_day(s.end)))
        points = sorted(c for c in cuts if opening <= c <= closing)
        return list(zip(points, points[1:]))

    def rates(self) -> list[tuple[float, float, dict[str, float]]]:
        """Expected arrivals per minute of each service, piecewise constant: (start, end, rates)."""
        raw = []
        total = 0.0
        for a, b in self.segments():
            mid = (a + b) / 2
            base = self.relative_rate(mid)
            seg = {}
            for code, share in self.mix.items():
                r = base * share if self.issuing(code, mid) else 0.0
                total += r * (b - a)
                seg[code] = r * self.surge_factor(code, mid)
            raw.append((a, b, seg))
        if total <= 0:
            raise Invalid("bad_scenario", f"scenario {self.name}: no visitor can arrive in its profile and hours")
        scale = self.spec.visitors / total
        return [(a, b, {k: v * scale for k, v in seg.items()}) for a, b, seg in raw]

    def peak_ratio(self) -> float:
        """The busiest hour's arrival rate over the day's mean (the seed city reports about 1.4)."""
        rates = self.rates()
        start, end = rates[0][0], rates[-1][1]
        issuing = sum(b - a for a, b, seg in rates if sum(seg.values()) > 0)
        mean = sum((b - a) * sum(seg.values()) for a, b, seg in rates) / max(issuing, 1e-9)
        best = 0.0
        for h in range(int(start), int(end) - 59, 5):
            best = max(best, _integral(rates, h, h + 60) / 60.0)
        return best / mean if mean else 0.0

    def mean_handling(self) -> float:
        """Mean handling minutes of the day's visitors at full speed."""
        rates = self.rates()
        n = {code: sum((b - a) * seg[code] for a, b, seg in rates) for code in self.mix}
        total = sum(n.values())
        return sum(n[c] * self.handling[c] for c in n) / total

    def on_duty(self, minute: float) -> int:
        """Windows planned to be working at this minute (all windows minus those on a break)."""
        opening, closing = self.open_minutes()
        if not opening <= minute < closing:
            return 0
        away = sum(1 for b in self.breaks if b.start <= minute < b.start + b.minutes)
        return len(self.windows) - away

    def hall_with(self, services: dict[int, dict[str, float]]) -> HallFile:
        """The hall file with the given services per window (a policy's layout)."""
        data = self.hall.model_dump()
        for w in data["windows"]:
            w["services"] = dict(services[w["number"]])
        return HallFile.model_validate(data)


def _span_end(span) -> float:
    if span.end == time(23, 59, 59):
        return 24 * 60.0
    return span.end.hour * 60 + span.end.minute


def _integral(rates, a: float, b: float) -> float:
    total = 0.0
    for s, e, seg in rates:
        lo, hi = max(a, s), min(b, e)
        if hi > lo:
            total += (hi - lo) * sum(seg.values())
    return total


def find_scenario(ref: str) -> Path:
    """A scenario by shipped name (seed-city, district...) or by path."""
    path = Path(ref)
    if path.suffix.lower() == ".toml" or path.exists():
        return path
    shipped = SCENARIO_DIR / f"{ref}.toml"
    if shipped.exists():
        return shipped
    known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
    raise Invalid("unknown_scenario", f"no scenario {ref!r}; shipped: {known}; or give a .toml file")


def shipped_scenarios() -> list[str]:
    """The names of the scenarios that come with HallQ."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def scenario_descriptions() -> dict[str, str]:
    """Each shipped scenario's name → its one-line description."""
    out = {}
    for name in shipped_scenarios():
        data = tomllib.loads((SCENARIO_DIR / f"{name}.toml").read_text(encoding="utf-8"))
        out[name] = str(data.get("scenario", {}).get("description", ""))
    return out


def load_scenario(ref: str) -> Scenario:
    """Read, validate and expand a scenario; raise Invalid with every problem found."""
    path = find_scenario(ref)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Invalid("unreadable", f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise Invalid("bad_syntax", f"{path.name}: {exc}") from None
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise Invalid("bad_scenario", f"{path.name}: {problems}") from None
    try:
        return _expand(spec, path)
    except (ValueError, KeyError) as exc:
        raise Invalid("bad_scenario", f"{path.name}: {exc}") from None


def _hall_of(spec: ScenarioFile, path: Path) -> HallFile:
    if spec.scenario.hall_file:
        if spec.hall or spec.services or spec.windows or spec.window_groups:
            raise ValueError("give either hall_file or inline hall sections, not both")
        return parse_hall_file(path.parent / spec.scenario.hall_file)
    windows = list(spec.windows)
    for g in spec.window_groups:
        for n in parse_numbers(g.numbers):
            windows.append({"number": n, "name": g.name.format(n=n), "zone": g.zone, "services": g.services})
    data = {"hall": spec.hall, "zones": spec.zones, "services": spec.services, "windows": windows}
    try:
        return HallFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None


def _expand(spec: ScenarioFile, path: Path) -> Scenario:
    hall = _hall_of(spec, path)
    codes = [s.code for s in hall.services]
    for label, names in (("mix", spec.mix), ("targets", spec.targets)):
        unknown = sorted(set(names) - set(codes))
        if unknown:
            raise ValueError(f"{label} names unknown services {', '.join(unknown)}")
    if sum(spec.mix.values()) <= 0:
        raise ValueError("the mix must give some service a positive share")
    for s in spec.surges:
        if s.service not in codes:
            raise ValueError(f"a surge names unknown service {s.service}")
    if not hall.windows:
        raise ValueError("a scenario needs at least one window")

    overrides: dict[int, tuple[list[str] | None, dict[str, float] | None]] = {}
    for g in spec.window_groups:
        for n in parse_numbers(g.numbers):
            overrides[n] = (g.main, g.qualified)
    for s in spec.staffing:
        for n in parse_numbers(s.windows):
            overrides[n] = (s.main, s.qualified)
    plans = []
    for w in sorted(hall.windows, key=lambda w: w.number):
        main_list, qualified = overrides.get(w.number, (None, None))
        top = max(w.services.values(), default=1.0)
        main = set(main_list) if main_list else {c for c, weight in w.services.items() if weight == top}
        if qualified is None:
            qualified = {c: (1.0 if c in main else spec.scenario.secondary_proficiency) for c in w.services}
        qualified = {**{c: 1.0 for c in main}, **qualified}
        unknown = sorted((set(main) | set(qualified)) - set(codes))
        if unknown:
            raise ValueError(f"window {w.number} names unknown services {', '.join(unknown)}")
        plans.append(WindowPlan(w.number, dict(w.services), frozenset(main), dict(qualified)))

    total = sum(spec.mix.values())
    profile = sorted((minute_of_day(k), v) for k, v in spec.profile.items())
    scenario = Scenario(
        spec=spec.scenario,
        hall=hall,
        windows=plans,
        handling={s.code: s.handling_minutes for s in hall.services},
        mix={k: v / total for k, v in spec.mix.items() if v > 0},
        profile=profile,
        targets={c: spec.targets.get(c, spec.scenario.target_minutes) for c in codes},
        surges=list(spec.surges),
        breaks=[],
        balancer=dict(spec.balancer),
        source=str(path),
    )
    scenario.breaks = _plan_breaks(spec.breaks, [p.number for p in plans])
    return scenario


def _plan_breaks(breaks: list[BreakSpec], numbers: list[int]) -> list[Break]:
    """Stagger each break over its period, in an order that keeps windows of one
    service apart (a golden-ratio sequence), the same way on every day and policy."""
    out = []
    golden = (math.sqrt(5) - 1) / 2
    for spec in breaks:
        start, end = minute_of_day(spec.start), minute_of_day(spec.end)
        room = max(end - start - spec.minutes, 0.0)
        taking = numbers[: math.ceil(spec.share * len(numbers))]
        for i, n in enumerate(taking):
            offset = ((i + 1) * golden) % 1.0
            out.append(Break(n, start + offset * room, spec.minutes))
    return out
