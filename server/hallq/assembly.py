"""The composition root: where HallQ's parts are put together, once per process.

`build` makes a `HallQ` from the settings: the hall engine, its back office and
its devices' front door over one unit of work, with one fan-out publisher that
every transport subscribes to. The CLI, the demo and the tests build one and hand
it to `create_app`; the parts a serving process starts later (MQTT, balancers,
the voice, the live pages) are set on it as they start, so nothing looks them up
by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .config import Settings
from .core.calling import make_policy
from .core.devices.service import DeviceService
from .core.events import FanOutPublisher, Publisher
from .core.office import OfficeService
from .core.reviews.contacts import ContactVault
from .core.reviews.service import ReviewService
from .core.service import HallService
from .core.waits.live import LiveWaits
from .core.stats.service import StatsService
from .db import Database

if TYPE_CHECKING:
    from hallq_edge.voice import VoiceCache

    from .audit_archive import AuditArchiver

    from .core.balancer.store import HallBalancers
    from .mqtt.demo_devices import DemoDevices
    from .mqtt.runtime import MqttRuntime
    from .web.live.publisher import SocketIOPublisher
    from .web.manager.balancer_live import BalancerRunner
    from .web.ratelimit import LoginLimiter


@dataclass(eq=False)
class HallQ:
    """One process's HallQ: the services, the publisher, and what the process has started."""

    settings: Settings
    halls: HallService
    office: OfficeService
    devices: DeviceService
    stats: StatsService
    reviews: ReviewService
    # Started by the serving process (create_app, the MQTT side, the demo), None until then:
    mqtt: MqttRuntime | None = None
    balancers: HallBalancers | None = None
    balancer_runner: BalancerRunner | None = None
    # A balancer given from outside instead of the stored ones (per hall slug): tests and tools.
    balancer_for: Callable | None = None
    voice: VoiceCache | None = None  # None: screens use their own voice
    live: SocketIOPublisher | None = None
    demo_devices: DemoDevices | None = None
    login_limiter: LoginLimiter | None = None
    audit_archiver: AuditArchiver | None = None

    def archiver(self) -> "AuditArchiver":
        """What moves audit lines past their retention to the archive folder (see audit_archive)."""
        from .audit_archive import for_settings

        return for_settings(self.halls.work, self.settings)

    @property
    def publisher(self) -> FanOutPublisher:
        """Every committed change's events go here; each transport adds itself."""
        return self.halls.publisher

    @property
    def db(self) -> Database:
        return self.halls.db

    @property
    def print_ticket(self) -> Callable | None:
        """The kiosk's printing on a dispenser, once the MQTT side runs (None: no printing)."""
        return self.mqtt.printing.print_ticket if self.mqtt is not None else None


def open_database(settings: Settings, *, migrate: bool = False) -> Database:
    """The configured database; with migrate, brought to the latest schema first."""
    if migrate:
        from .migrate import upgrade

        upgrade(settings.effective_database_url)
    return Database.from_url(settings.effective_database_url, synchronous=settings.sqlite_synchronous)


def hall_service(settings: Settings, *, migrate: bool = False, db: Database | None = None, **options) -> HallService:
    """A hall engine on the configured database (or `db`), with the configured calling policy."""
    return HallService(db or open_database(settings, migrate=migrate), policy=make_policy(settings.calling_policy), **options)


def build(settings: Settings, *, halls: HallService | None = None, publisher: Publisher | None = None,
          migrate: bool = False) -> HallQ:
    """HallQ for these settings: on the configured database, or around `halls` (a hall engine already
    made, as the tests and the simulator make theirs); `publisher` hears every event besides the transports."""
    halls = halls or hall_service(settings, migrate=migrate)
    if settings.wait_prediction and halls.waits is None:
        halls.use_waits(LiveWaits(min_seconds=settings.wait_prediction_seconds))
    if publisher is not None:
        halls.publisher.add(publisher)
    return HallQ(settings=settings, halls=halls, office=OfficeService(halls), devices=DeviceService(halls), stats=StatsService(halls),
                 reviews=ReviewService(halls, vault=ContactVault(settings.effective_contact_key())))
