"""Messages made in Python, in the request's language: bulk prompts and results, a form's save
(SQLAdmin's own button check follows the language too), refusals and the stored data unchanged."""

from __future__ import annotations

import html

from sqlalchemy import select

from models import AuditEntry, Task, TaskStatus
from tests.admin.conftest import ORIGIN, import_csv


def german(client) -> None:  # noqa: ANN001
    saved = client.post("/admin/account", data={"do": "language", "language": "de"}, headers=ORIGIN)
    assert saved.status_code == 303


def test_a_bulk_action_asks_and_answers_in_german(editor, db) -> None:  # noqa: ANN001
    german(editor)
    tasks = [Task(title=f"Aufgabe {n}", created_by_id=editor.user.id) for n in range(3)]
    db.add_all(tasks)
    db.commit()
    chosen = f"{tasks[0].id},{tasks[1].id}"
    confirm = html.unescape(editor.get(f"/admin/task/action/mark-done?pks={chosen}").text)
    assert "Als erledigt markieren" in confirm and "die 2 ausgewählten Aufgaben" in confirm
    done = editor.post(f"/admin/task/action/mark-done?pks={chosen}",
                       data={"pks": chosen, "scope": "selected"}, headers=ORIGIN)
    assert done.status_code == 303
    page = html.unescape(editor.get(done.headers["location"]).text)
    assert "2 Aufgaben als erledigt markiert" in page
    db.expire_all()
    assert db.get(Task, tasks[0].id).status == TaskStatus.done  # stored values stay as they are
    summaries = db.execute(select(AuditEntry.action).where(AuditEntry.entity == "task")).scalars().all()
    assert summaries and all(a.isascii() for a in summaries)


def test_a_refused_bulk_value_is_worded_in_german(editor, db) -> None:  # noqa: ANN001
    german(editor)
    task = Task(title="Aufgabe", created_by_id=editor.user.id)
    db.add(task)
    db.commit()
    refused = editor.post(f"/admin/task/action/set-priority?pks={task.id}",
                          data={"pks": str(task.id), "scope": "selected", "value": "9"}, headers=ORIGIN)
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    assert "Priorität: wählen Sie eines von Niedrig, Normal, Hoch, Sehr hoch, Dringend." in text


def test_save_and_continue_in_german_stays_on_the_form(editor, db) -> None:  # noqa: ANN001
    german(editor)
    form = editor.get("/admin/task/create").text
    assert 'value="Speichern und weiter bearbeiten"' in form  # SQLAdmin's button, German
    response = editor.post("/admin/task/create", headers=ORIGIN, data={
        "title": "Bericht schreiben", "description": "", "status": "pending", "priority": "2",
        "due_date": "", "assignee": "", "save": "Speichern und weiter bearbeiten",
    })
    assert response.status_code == 302
    [task] = db.execute(select(Task)).scalars().all()
    assert f"/admin/task/edit/{task.id}" in response.headers["location"]  # not the list
    page = html.unescape(editor.get(response.headers["location"]).text)
    assert "Aufgabe “" in page and "angelegt." in page


def test_english_messages_are_unchanged(editor, db) -> None:  # noqa: ANN001
    task = Task(title="Task", created_by_id=editor.user.id)
    db.add(task)
    db.commit()
    done = editor.post(f"/admin/task/action/mark-done?pks={task.id}",
                       data={"pks": str(task.id), "scope": "selected"}, headers=ORIGIN)
    assert "1 task marked done" in html.unescape(editor.get(done.headers["location"]).text)


def test_a_refused_page_says_why_in_german(viewer) -> None:  # noqa: ANN001
    german(viewer)
    refused = viewer.get("/admin/user/list")
    assert refused.status_code == 403
    text = html.unescape(refused.text)
    assert "Nicht erlaubt" in text and "Ihre Rolle, viewer, gibt keinen Zugriff auf Benutzer." in text


def test_import_problems_in_german(editor) -> None:  # noqa: ANN001
    german(editor)
    response = import_csv(editor, "/admin/task/import-csv", "description\nno title column\n")
    assert response.status_code == 400
    assert "Die Spalte title fehlt." in html.unescape(response.text)


def test_a_wrong_password_is_refused_in_spanish_and_escaped(app) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as anonymous:
        page = anonymous.post("/admin/login", headers={**ORIGIN, "Accept-Language": "es"},
                              data={"username": "<b>x</b>@example.com", "password": "wrong password here"})
        assert page.status_code == 400
        assert "Correo electrónico o contraseña no válidos." in html.unescape(page.text)
        assert "<b>x</b>" not in page.text


def test_the_import_page_titles_refuses_and_skips_in_german(editor) -> None:  # noqa: ANN001
    import re

    german(editor)
    path = "/admin/task/import-csv"
    page = html.unescape(editor.get(path).text)
    assert "Aufgaben aus CSV oder Excel importieren" in page
    assert "Wählen Sie eine CSV- oder Excel-Datei (.xlsx)." in html.unescape(
        editor.post(path, data={}, headers=ORIGIN).text)
    content = "title,priority\nGut,2\nSchlecht,9\nAuch gut,3\n"
    shown = editor.post(path, files={"csvfile": ("t.csv", content.encode(), "text/csv")}, headers=ORIGIN).text
    signed = html.unescape(re.search(r'name="preview" value="([^"]+)"', shown).group(1))
    refused = editor.post(path, data={"preview": signed}, headers=ORIGIN)
    assert refused.status_code == 400
    assert "Nichts wurde importiert: 1 von 3 Zeilen haben Probleme (unten)." in html.unescape(refused.text)
    skipped = editor.post(path, data={"preview": signed, "skip_invalid": "1"}, headers=ORIGIN)
    assert skipped.status_code == 200
    assert "1 ungültige Zeile übersprungen." in html.unescape(skipped.text)
    expired = editor.post(path, data={"preview": signed + "x"}, headers=ORIGIN)
    assert "Die Vorschau ist ungültig: laden Sie die Datei noch einmal hoch." in html.unescape(expired.text)
