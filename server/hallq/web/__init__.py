"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask

from ..assembly import HallQ, build
from ..config import Settings, load_settings
from ..voice import init_voice
from .extensions import csrf, login_manager, socketio
from hallq_protocol import privacy

log = logging.getLogger("hallq")


def create_app(settings: Settings | None = None, *, hallq: HallQ | None = None, **overrides) -> Flask:
    """Build the app around `hallq` (built from the settings when not given): blueprints, Socket.IO, the
    live pages, the voice and the balancers, each added to hallq's publisher and set on hallq."""
    settings = settings or (hallq.settings if hallq is not None and not overrides else load_settings(**overrides))
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
    privacy.mask_logs()  # no ID or mobile number in any log line

    hallq = hallq or build(settings)
    hallq.settings = settings
    app.extensions["hallq"] = hallq

    csrf.init_app(app)
    login_manager.init_app(app)
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=settings.redis_url or None,
        # cors_allowed_origins left at None: Socket.IO accepts only the page's own origin.
    )

    from .api import bp as api_bp
    from .headers import init_headers
    from .live import init_live
    from .live.limit import LiveLimit, open_sessions
    from .manager.balancer_live import init_balancer

    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie sessions, see api/auth.py
    init_live(hallq, socketio)
    init_voice(hallq)
    init_balancer(app, hallq, socketio)
    init_pages(app)
    init_headers(app, settings.display_frame_ancestors)
    # Outside Socket.IO's middleware: a session past the process's live connections is refused before it starts.
    app.wsgi_app = LiveLimit(app.wsgi_app, open_sessions=open_sessions(socketio.server.eio), limit=settings.live_connections)
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
