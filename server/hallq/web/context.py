"""What a request handler reaches of the running HallQ: the one object the app was built around."""

from __future__ import annotations

from flask import Flask, current_app

from ..assembly import HallQ
from ..config import Settings
from ..core.office import OfficeService
from ..core.service import HallService


def hallq(app: Flask | None = None) -> HallQ:
    return (app or current_app).extensions["hallq"]


def hall_service(app: Flask | None = None) -> HallService:
    return hallq(app).halls


def office(app: Flask | None = None) -> OfficeService:
    return hallq(app).office


def settings(app: Flask | None = None) -> Settings:
    return hallq(app).settings
