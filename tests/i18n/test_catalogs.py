"""The catalogs: every template text marked, the .pot current, each language complete, and
the committed .mo files compiled from the .po files beside them."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqladmin
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment

from admin_app.i18n import DOMAIN, LOCALE_DIR

ROOT = Path(__file__).parents[2]
TEMPLATES = ROOT / "admin_app" / "admin" / "templates"
TRANSLATED = ("de", "fr", "es")
TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.S)
# Text that is markup, not words: what keys, code and scripts show, entities.
NOT_WORDS = re.compile(r"<(script|style|kbd|code)\b.*?</\1>", re.S)
ENTITY = re.compile(r"&#?\w+;")


def unmarked_text(source: str) -> list[str]:
    """The template's text (outside tags) with letters that no gettext call or trans block holds."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    flat, in_trans = [], False
    tokens = [t for t in env.lex(source) if t[1] != "whitespace"]
    for i, (_, kind, value) in enumerate(tokens):
        if kind == "data" and not in_trans:
            flat.append(value)
        elif kind.endswith("_begin"):
            flat.append("\x00")
            if kind == "block_begin" and tokens[i + 1][1] == "name":  # {% trans %} ... {% endtrans %}
                in_trans = {"trans": True, "endtrans": False}.get(tokens[i + 1][2], in_trans)
    text = TAG.sub("\x00", NOT_WORDS.sub("\x00", "".join(flat)))
    return [t.strip() for t in ENTITY.sub("", text).split("\x00") if re.search(r"[^\W\d_]", t)]


def templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", templates(), ids=lambda p: p.name)
def test_every_template_text_is_marked_for_translation(path: Path) -> None:
    assert unmarked_text(path.read_text()) == [], f"{path.name}: mark these with _() or trans"


def test_the_unmarked_text_check_sees_text() -> None:
    assert unmarked_text("<p>Hello {{ name }}</p><kbd>x</kbd> &times;") == ["Hello"]
    assert unmarked_text('<p>{{ _("Hello") }}</p>{% trans %}Hi {{ n }}{% endtrans %}') == []


def extract(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
         "--no-location", "--sort-output", "-k", "N_", "-k", "lazy_gettext", "-o", str(pot),
         str(ROOT / "admin_app"), str(ROOT / "models"), str(ROOT / "auth"),
         str(Path(sqladmin.__file__).parent / "templates")],
        check=True, cwd=ROOT, capture_output=True,
    )
    return ids(pot)


def ids(path: Path) -> set[str]:
    with path.open("rb") as file:
        return {str(m.id) for m in read_po(file) if m.id}


def test_the_template_catalog_is_current(tmp_path: Path) -> None:
    fresh, committed = extract(tmp_path), ids(LOCALE_DIR / f"{DOMAIN}.pot")
    assert fresh - committed == set(), "new messages: re-extract (README: Translations)"
    assert committed - fresh == set(), "messages gone: re-extract (README: Translations)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as file:
        wanted = {m.id for m in read_po(file) if m.id}
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        catalog = read_po(file)
    missing = []
    for msgid in wanted:
        message = catalog.get(msgid)
        strings = message.string if message is not None and isinstance(message.string, tuple) else (
            (message.string,) if message is not None else ())
        if message is None or message.fuzzy or not all(strings) or not strings:
            missing.append(msgid)
    assert sorted(map(str, missing)) == [], f"{language}: untranslated or fuzzy"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_mo_matches_its_po(language: str) -> None:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    with (folder / f"{DOMAIN}.po").open("rb") as file:
        source = read_po(file)
    compiled = io.BytesIO()
    write_mo(compiled, source)
    compiled.seek(0)
    with (folder / f"{DOMAIN}.mo").open("rb") as file:
        committed = read_mo(file)
    fresh = read_mo(compiled)

    def pairs(catalog):  # noqa: ANN001, ANN202
        return {(str(m.id), str(m.string)) for m in catalog if m.id}

    assert pairs(committed) == pairs(fresh), f"{language}: compile again (README: Translations)"
