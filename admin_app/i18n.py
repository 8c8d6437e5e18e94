"""The admin's languages: catalogs (loaded once per language), the request's language, Babel formats.

Only the admin sets a language: the JSON API keeps its English texts whatever the browser
asks. A message made where no request language is known (a service, a declaration) is marked
with `N_` (extracted, left as is) and translated when the admin shows it; a service's refusal
is a template with its values (`errors.Words`), nouns in it `lazy_noun`s.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqladmin
from babel import Locale
from babel.dates import DateTimePattern, parse_pattern
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from markupsafe import Markup, escape

from models.common import N_ as N_  # re-exported: the one marker, models and auth mark theirs with it too
from models.user import LANGUAGES

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SQLADMIN_LOCALE_DIR = Path(sqladmin.__file__).parent / "translations"
DEFAULT_LANGUAGE = "en"
# The one timestamp format of English pages (the team's "2026-12-01 19:25"); the others take
# their language's numeric date (CLDR skeleton yMd) and 24-hour minutes, joined the language's way.
ENGLISH_TIMESTAMP = "yyyy-MM-dd HH:mm"

_language: ContextVar[str] = ContextVar("admin_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> NullTranslations:
    """Our catalog for a language, then SQLAdmin's for the strings of its own templates."""
    if language not in LANGUAGES or language == DEFAULT_LANGUAGE:
        return NullTranslations()
    ours = Translations.load(LOCALE_DIR, [language], DOMAIN)
    ours.add_fallback(Translations.load(SQLADMIN_LOCALE_DIR, [language], "admin"))
    return ours


def set_language(language: str) -> None:
    """Make `language` the one of the current request (anything unknown: English)."""
    _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _language.get()


def gettext(message: str) -> str:
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


class LazyText(str):
    """A message that is its English text to code (joins, comparisons, dict keys: SQLAdmin's
    start-up maps) and is translated each time it is shown: `str()`, formatting, templates."""

    __slots__ = ()

    def __str__(self) -> str:
        return gettext(str.__str__(self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_gettext(message: str) -> Any:
    """A message translated each time it is shown (a label made at start-up)."""
    return LazyText(message)


class LazyNoun(LazyText):
    """A noun inside a sentence ("A task with this code exists."): translated, and lower case
    but in German, each time it is shown; English (lowered) where no language is set."""

    __slots__ = ()

    def __str__(self) -> str:
        return lowered(gettext(str.__str__(self)))


class LazyLeadingNoun(LazyNoun):
    """A noun that begins the English sentence ("Tasks have no column ..."): as it is in English
    and in German, lower case where the translation puts it inside the sentence (the others)."""

    __slots__ = ()

    def __str__(self) -> str:
        text = gettext(str.__str__(self))
        return text if _language.get() == DEFAULT_LANGUAGE else lowered(text)


def lazy_noun(word: str, *, leading: bool = False) -> Any:
    """`word` inside a sentence (`leading`: at the start of the English one), see LazyNoun."""
    english = str.__str__(word) if isinstance(word, LazyText) else word
    return LazyLeadingNoun(english) if leading else LazyNoun(english)


def lowered(word: str) -> str:
    """A noun inside a sentence ("3 tasks"): lower case, but German keeps its capitals."""
    return str(word) if _language.get() == "de" else str(word).lower()


def translate(message: str, **params: Any) -> str:
    """A marked message in the request's language, `{name}` placeholders filled afterwards."""
    text = gettext(message)
    return text.format(**params) if params else text


def negotiate(accept_language: str | None) -> str | None:
    """The best of our languages for an `Accept-Language` header (quality values honoured,
    "de-AT" is German), or None when it names none of them."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language[:1000].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].split("_")[0].lower()
        if quality > 0 and primary in LANGUAGES:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@cache
def _timestamp_pattern(language: str) -> DateTimePattern:
    if language == DEFAULT_LANGUAGE:
        return parse_pattern(ENGLISH_TIMESTAMP)
    locale = _locale(language)
    date_part = locale.datetime_skeletons["yMd"].pattern
    combined = str(locale.datetime_formats["short"]).replace("{1}", date_part).replace("{0}", "HH:mm")
    return parse_pattern(combined)


def format_timestamp(value: datetime) -> str:
    """A local time (already in the viewer's zone) in the request language's short form."""
    language = _language.get()
    return _timestamp_pattern(language).apply(value, _locale(language))


@cache
def _date_pattern(language: str) -> DateTimePattern:
    if language == DEFAULT_LANGUAGE:
        return parse_pattern("yyyy-MM-dd")
    return parse_pattern(_locale(language).datetime_skeletons["yMd"].pattern)


def format_date(value: date) -> str:
    """A date in the request language's numeric form ("2026-11-30", "30.11.2026")."""
    language = _language.get()
    return _date_pattern(language).apply(value, _locale(language))


def format_number(number: int | float) -> str:
    """A count or total in the request language's digits ("260,000", "260.000", "260 000")."""
    # int(): a subclass may read differently (ApproximateCount's str is "about 300")
    plain = int(number) if isinstance(number, int) else float(number)
    return format_decimal(plain, locale=_locale(_language.get()))
