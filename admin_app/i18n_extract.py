"""A Babel extraction method for the words the declarations hold (babel.cfg): each table's
labels, choice labels, presets, action titles and results, built as the app builds them
(`set_each_choice` makes "Mark as done" at start-up), plus My account's theme names and the
login's fixed answers and the throttled login's (`auth.outcomes`, shared with the API: the login
pages translate them).

The admin translates them where it shows them (`admin_app.i18n.gettext`); the API and the
CLI keep them as declared.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# The attributes of a declaration's parts that staff read (names, slugs and paths are not words).
WORDS = ("label", "plural", "title", "done", "unchanged", "warning", "help", "orphaned")


def _words(part: Any) -> Iterator[str]:
    for name in WORDS:
        value = getattr(part, name, None)
        if isinstance(value, str) and value:
            yield value
    yield from (getattr(part, "choices", None) or {}).values()


def declared_words() -> list[str]:
    """Every word of the default declarations, in declaration order, once each."""
    from admin_app.resources import default_resources
    from auth.outcomes import (
        BUSY_MESSAGE,
        INACTIVE_ACCOUNT,
        INVALID_CODE,
        INVALID_CREDENTIALS,
        PENDING_EXPIRED,
    )
    from models.user import THEMES

    LOGIN_ANSWERS = (INVALID_CREDENTIALS, INACTIVE_ACCOUNT, INVALID_CODE, PENDING_EXPIRED, BUSY_MESSAGE)

    found: dict[str, None] = {}
    for resource in default_resources():
        parts = [resource, *resource.fields, *resource.presets, *resource.actions]
        for part in parts:
            found.update(dict.fromkeys(_words(part)))
    found.update(dict.fromkeys(THEMES.values()))
    found.update(dict.fromkeys(LOGIN_ANSWERS))
    return list(found)


def extract_declarations(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    """Babel's extractor signature: (line, function, message, comments) per word."""
    from auth.outcomes import THROTTLED

    for word in declared_words():
        yield 1, "gettext", word, []
    yield 1, "ngettext", THROTTLED, []
