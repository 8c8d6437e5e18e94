"""The admin's language: My account's choice, else the browser's Accept-Language, else English;
<html lang> follows, and German pages show German words, dates and numbers. The API stays English."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update

from admin_app.admin.language import choose_language
from admin_app.i18n import negotiate
from models import Task, User
from tests.admin.conftest import ORIGIN

LANG = re.compile(r'<html lang="(\w+)">')


def lang_of(page: str) -> str:
    return LANG.search(page).group(1)


def test_accept_language_is_negotiated_with_quality_values() -> None:
    assert negotiate("de-AT,de;q=0.9,en;q=0.8") == "de"
    assert negotiate("ja, fr;q=0.5, es;q=0.7") == "es"
    assert negotiate("en;q=0.1, fr") == "fr"
    assert negotiate("de;q=0, fr;q=0.2") == "fr"  # q=0: not acceptable
    assert negotiate("pt-BR, ja") is None
    assert negotiate("es_ES") == "es"
    assert negotiate("") is None and negotiate(None) is None
    assert negotiate("de;q=abc") is None and negotiate(";;,,") is None
    assert choose_language("fr", "de") == "fr" and choose_language(None, "de") == "de"
    assert choose_language("xx", None) == "en" and choose_language(None, "pt") == "en"


def test_english_by_default(editor) -> None:  # noqa: ANN001
    page = editor.get("/admin/").text
    assert lang_of(page) == "en" and "Latest changes" in page


def test_the_browser_language_without_a_choice(editor, app) -> None:  # noqa: ANN001
    page = editor.get("/admin/", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"}).text
    assert lang_of(page) == "de" and "Neueste Änderungen" in page and "Latest changes" not in page
    assert lang_of(editor.get("/admin/task/list", headers={"Accept-Language": "fr-CH, en;q=0.5"}).text) == "fr"
    assert lang_of(editor.get("/admin/task/list", headers={"Accept-Language": "pt-BR"}).text) == "en"
    with TestClient(app, base_url="http://testserver") as anonymous:  # the login page too
        login = anonymous.get("/admin/login", headers={"Accept-Language": "es"}).text
        assert lang_of(login) == "es" and "Iniciar sesión" in login


def test_the_choice_in_my_account_is_saved_and_wins_over_the_browser(editor, viewer, db) -> None:  # noqa: ANN001
    assert 'id="language-form"' in editor.get("/admin/account").text
    saved = editor.post("/admin/account", data={"do": "language", "language": "fr"}, headers=ORIGIN)
    assert saved.status_code == 303
    assert db.get(User, editor.user.id).language == "fr"
    account = editor.get("/admin/account").text  # the message in the new language
    assert 'value="fr" lang="fr" selected' in account and "Les pages s’affichent maintenant en Français." in account
    for path in ("/admin/", "/admin/task/list", "/admin/account", "/admin/task/create"):
        page = editor.get(path, headers={"Accept-Language": "de"}).text
        assert lang_of(page) == "fr", path
    assert lang_of(viewer.get("/admin/").text) == "en"  # per user
    editor.post("/admin/account", data={"do": "language", "language": ""}, headers=ORIGIN)  # automatic
    db.expire_all()
    assert db.get(User, editor.user.id).language is None
    assert lang_of(editor.get("/admin/", headers={"Accept-Language": "es"}).text) == "es"


def test_an_unknown_language_is_refused_and_changes_nothing(editor, db) -> None:  # noqa: ANN001
    for bad in ("xx", "de\x00", "DE", "en-US"):
        response = editor.post("/admin/account", data={"do": "language", "language": bad}, headers=ORIGIN)
        assert response.status_code == 400, bad
        assert "Language: choose one from the list." in response.text
    assert db.get(User, editor.user.id).language is None


def test_a_german_page_shows_german_words_dates_and_numbers(editor, db) -> None:  # noqa: ANN001
    editor.post("/admin/account", data={"do": "language", "language": "de"}, headers=ORIGIN)
    editor.post("/admin/account", data={"do": "time-zone", "time_zone": "Europe/Berlin"}, headers=ORIGIN)
    db.add_all([Task(title=f"Aufgabe {n}", created_by_id=editor.user.id) for n in range(1203)])
    db.commit()
    db.execute(update(Task).values(updated_at=datetime(2026, 12, 1, 18, 5, tzinfo=UTC)))
    db.commit()
    home = editor.get("/admin/").text
    assert lang_of(home) == "de" and "Neueste Änderungen" in home
    assert "1.203" in home and "1,203" not in home  # the status cards' counts
    assert "1.12.2026, 19:05" in home  # 18:05 UTC in Berlin, German short date
    listing = editor.get("/admin/task/list").text
    assert "von 1.203" in listing and "Zum Inhalt springen" in listing


def test_english_keeps_its_formats(editor, db) -> None:  # noqa: ANN001
    db.add_all([Task(title=f"Task {n}", created_by_id=editor.user.id) for n in range(1203)])
    db.commit()
    db.execute(update(Task).values(updated_at=datetime(2026, 12, 1, 18, 5, tzinfo=UTC)))
    db.commit()
    home = editor.get("/admin/").text
    assert "1,203" in home and "2026-12-01 18:05 UTC" in home


def test_the_api_answers_in_english_whatever_the_browser_says(app, editor) -> None:  # noqa: ANN001
    editor.post("/admin/account", data={"do": "language", "language": "de"}, headers=ORIGIN)
    with TestClient(app, base_url="http://testserver") as client:
        plain = client.get("/api/tasks")
        german = client.get("/api/tasks", headers={"Accept-Language": "de"})
        assert german.status_code == plain.status_code == 401
        assert german.json() == plain.json() and german.headers.get("content-language") is None
    # a signed-in German user's session on the API: still English
    missing = editor.get("/api/tasks/999999", headers={"Accept-Language": "de"})
    english = editor.get("/api/tasks/999999")
    assert missing.status_code == english.status_code and missing.json() == english.json()
    assert missing.json()["detail"].isascii()


def test_an_estimated_count_reads_in_the_language() -> None:
    from admin_app.admin.display import count_text
    from admin_app.i18n import set_language
    from admin_app.services.listing import ApproximateCount

    set_language("de")
    try:
        assert count_text(ApproximateCount(260_000)) == "etwa 260.000" and count_text(1203) == "1.203"
    finally:
        set_language("en")
    assert count_text(ApproximateCount(260_000)) == "about 260,000" and count_text(None) == ""
