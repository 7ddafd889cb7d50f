"""gpiozero's mock pins for the tests, with the devices on them closed afterwards.

A gpiozero Button keeps a thread that polls ten times a second until the button is
closed; a test that leaves its buttons open leaves those threads running for the rest
of the session. Hundreds of them starve the other tests' threads (under libfaketime,
whose clock calls are slow, to a standstill)."""

from __future__ import annotations

import weakref

from gpiozero.pins.mock import MockFactory


class ClosingMockFactory(MockFactory):
    """A MockFactory that remembers every device reserving its pins, to close them with close_devices()."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.devices: weakref.WeakSet = weakref.WeakSet()

    def reserve_pins(self, requester, *names):
        super().reserve_pins(requester, *names)
        self.devices.add(requester)

    def close_devices(self) -> None:
        for device in list(self.devices):
            device.close()
        self.reset()
