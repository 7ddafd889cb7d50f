"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask

from ..config import Settings, load_settings
from ..core.events import FanOutPublisher
from ..core.policy import make_policy
from ..core.service import HallService
from ..db import Database
from ..voice import init_voice
from .extensions import csrf, login_manager, socketio

log = logging.getLogger("hallq")


def create_app(settings: Settings | None = None, *, service: HallService | None = None, **overrides) -> Flask:
    """Build the app: settings, database, hall engine, blueprints, Socket.IO."""
    settings = settings or load_settings(**overrides)
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.effective_secret_key(),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if service is None:
        db = Database.from_url(settings.effective_database_url, synchronous=settings.sqlite_synchronous)
        service = HallService(db, policy=make_policy(settings.calling_policy))
    fanout = FanOutPublisher(on_error=lambda p, e, exc: log.exception("publisher %r failed on %s", p, e.kind, exc_info=exc))
    if service.publisher is not None and not isinstance(service.publisher, FanOutPublisher):
        fanout.add(service.publisher)
    service.publisher = fanout
    app.extensions["hallq"] = service
    app.extensions["hallq.settings"] = settings

    csrf.init_app(app)
    login_manager.init_app(app)
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=settings.redis_url or None,
        # cors_allowed_origins left at None: Socket.IO accepts only the page's own origin.
    )

    from .api import bp as api_bp
    from .live import init_live
    from .manager.balancer_live import init_balancer

    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie sessions, see api/auth.py
    init_live(app, socketio, fanout)
    init_voice(app, fanout, settings)
    init_balancer(app, socketio, fanout, settings.balancer_interval_seconds)
    init_pages(app)
    if settings.trusted_proxies:
        # Behind nginx (or another proxy) every request comes from the proxy's
        # address: trust its X-Forwarded-* headers, and only as many hops as
        # configured, so the sign-in limiter counts each visitor's own address
        # and a client cannot forge one. Outermost, so Socket.IO sees them too.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    return app


def init_pages(app: Flask) -> None:
    """The people's pages: sign-in, staff, manager, kiosk, tracker, admin, displays; in zh-CN and en."""
    from .admin import bp as admin_bp
    from .auth_pages import bp as auth_bp
    from .displays_bp import bp as displays_bp
    from .i18n import init_i18n
    from .kiosk import bp as kiosk_bp
    from .manager import bp as manager_bp
    from .pages import register_error_pages
    from .staff import bp as staff_bp
    from .tracker import bp as tracker_bp

    init_i18n(app)
    login_manager.login_view = "auth_pages.login"
    for bp in (auth_bp, staff_bp, manager_bp, kiosk_bp, tracker_bp, admin_bp, displays_bp):
        app.register_blueprint(bp)
    register_error_pages(app)
    from .messages import page_strings

    app.jinja_env.globals["page_strings"] = page_strings


def hall_service(app: Flask | None = None) -> HallService:
    from flask import current_app

    return (app or current_app).extensions["hallq"]
