"""Languages: Chinese by default, English on request; every string the pages
show is in the catalogue and translated, and the compiled catalogue is current."""

from __future__ import annotations


from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from support.project import ROOT

WEB = ROOT / "server" / "hallq" / "web"
PO = WEB / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def source_strings() -> set[str]:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    return {m[2] for m in extract_from_dir(str(WEB), method_map, keywords=keywords) if isinstance(m[2], str)}


def test_every_page_string_has_a_chinese_translation():
    with PO.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(s for s in source_strings() if not translated.get(s))
    assert missing == [], f"untranslated (run the pybabel commands in web/babel.cfg): {missing}"


def test_the_compiled_catalogue_matches_the_po_file():
    with PO.open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with MO.open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert mo == po


def test_pages_speak_chinese_by_default_and_english_on_request(client):
    assert "<h1>登录</h1>" in client.get("/login").get_data(as_text=True)
    r = client.get("/login?lang=en")
    assert "<h1>Sign in</h1>" in r.get_data(as_text=True) and 'lang="en"' in r.get_data(as_text=True)
    assert "<h1>Sign in</h1>" in client.get("/login").get_data(as_text=True)  # remembered in a cookie
    assert "<h1>登录</h1>" in client.get("/login?lang=zh").get_data(as_text=True)


def test_browser_accept_language_does_not_switch_to_english(client):
    r = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "<h1>登录</h1>" in r.get_data(as_text=True)


def test_display_texts_exist_in_both_languages():
    import re

    js = (WEB.parents[2] / "displays" / "display.js").read_text(encoding="utf-8")
    blocks = re.findall(r"\n    (zh|en): \{(.*?)\n    \}", js, re.S)
    keys = {lang: set(re.findall(r"(\w+): \"", body)) for lang, body in blocks}
    assert set(keys) == {"zh", "en"} and keys["zh"] == keys["en"] and len(keys["zh"]) > 10
