"""Languages: Chinese (zh-CN) by default, English on request (?lang=en, kept in a cookie)."""

from __future__ import annotations

from flask import request
from flask_babel import Babel

babel = Babel()

DEFAULT = "zh_Hans_CN"
# What a page may ask for → the Babel locale it gets.
LANGUAGES = {"zh": DEFAULT, "zh-cn": DEFAULT, "zh_cn": DEFAULT, "zh_hans_cn": DEFAULT, "en": "en"}
COOKIE = "hallq_lang"
# Pages used by one stranger after another: a visitor's ?lang= is for their own
# visit only. They neither read nor set the cookie, or the next visitor (for
# the next 365 days) would meet the last one's language.
SHARED_BLUEPRINTS = {"kiosk"}


def _shared_page() -> bool:
    return request.blueprint in SHARED_BLUEPRINTS


def wanted_language() -> str | None:
    """The language the request asks for (query first, then the cookie), or None."""
    remembered = None if _shared_page() else request.cookies.get(COOKIE)
    for raw in (request.args.get("lang"), remembered):
        if raw and raw.lower() in LANGUAGES:
            return LANGUAGES[raw.lower()]
    return None


def select_locale() -> str:
    # Deliberately not Accept-Language: a hall's screens and terminals speak
    # Chinese unless someone asks for English.
    return wanted_language() or DEFAULT


def html_lang(locale) -> str:
    """The page's lang attribute: zh-CN or en."""
    return "en" if str(locale).startswith("en") else "zh-CN"


def init_i18n(app) -> None:
    """Bind Flask-Babel; remember a ?lang= choice in a cookie."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    babel.init_app(app, locale_selector=select_locale)

    @app.after_request
    def _remember_language(response):
        raw = request.args.get("lang", "")
        if not _shared_page() and raw.lower() in LANGUAGES and request.cookies.get(COOKIE) != raw:
            response.set_cookie(COOKIE, raw.lower(), max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response

    @app.context_processor
    def _language():
        from flask_babel import get_locale

        english = html_lang(get_locale()) == "en"

        def local_name(item) -> str:
            """An item's English name on English pages (when it has one), else its Chinese name."""
            if item is None:
                return ""
            get = item.get if isinstance(item, dict) else lambda k, d=None: getattr(item, k, d)
            return (get("name_en") if english else None) or get("name") or ""

        return {"html_lang": "en" if english else "zh-CN", "is_english": english, "local_name": local_name}
