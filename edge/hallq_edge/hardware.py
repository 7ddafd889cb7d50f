"""gpiozero devices from config, on the configured pin factory ("mock" runs
anywhere: the demo and the tests use it)."""

from __future__ import annotations


def pin_factory(name: str | None):
    """A gpiozero pin factory: mock, lgpio, rpigpio, pigpio, native; None means gpiozero's default."""
    if not name:
        return None
    if name == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    if name == "lgpio":
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    if name == "rpigpio":
        from gpiozero.pins.rpigpio import RPiGPIOFactory

        return RPiGPIOFactory()
    if name == "pigpio":
        from gpiozero.pins.pigpio import PiGPIOFactory

        return PiGPIOFactory()
    if name == "native":
        from gpiozero.pins.native import NativeFactory

        return NativeFactory()
    raise ValueError(f"unknown pin factory {name!r}")


def button(pin: int, factory, bounce: float = 0.05):
    from gpiozero import Button

    return Button(pin, pin_factory=factory, bounce_time=bounce)


def led(pin: int, factory):
    from gpiozero import LED

    return LED(pin, pin_factory=factory)


def sensor(pin: int, factory):
    """A digital input that is active (high) when e.g. the printer's paper runs out."""
    from gpiozero import DigitalInputDevice

    return DigitalInputDevice(pin, pin_factory=factory, pull_up=False)
