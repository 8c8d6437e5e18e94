"""The write path's refusals on an admin page read in the page's language; the API's stay English.

A service raises `N_`-marked templates with their values (admin_app/errors.py: Words); the
admin words them with its gettext (admin/messages.py), the API sends the English text."""

from __future__ import annotations

import contextvars
import html
import re

import pytest

from admin_app.admin import forms
from admin_app.errors import InvalidInput
from admin_app.i18n import gettext, set_language
from admin_app.resources.tasks import TASKS
from admin_app.services import columns
from models import Role, User
from tests.admin.conftest import ORIGIN, task_rows
from tests.admin.test_admin_forms import task_form, user_form
from tests.admin.test_admin_list_edit import form_of

GERMAN = {**ORIGIN, "Accept-Language": "de"}
FRENCH = {**ORIGIN, "Accept-Language": "fr"}


def page_text(response) -> str:  # noqa: ANN001
    return html.unescape(response.text)


@pytest.mark.parametrize(
    ("field", "value", "german", "english"),
    [
        ("title", "   ", "darf nicht leer sein", "must not be blank"),
        ("title", "bad\x00title", "darf keine Steuerzeichen enthalten", "must not contain control characters"),
        ("assignee", "999999", "kein Eintrag mit der ID 999999", "no user with id 999999"),
    ],
)
def test_a_field_refusal_reads_in_german(editor, app, field, value, german, english) -> None:  # noqa: ANN001, PLR0913
    response = editor.post("/admin/task/create", data=task_form(**{field: value}), headers=GERMAN)
    assert response.status_code == 400
    page = page_text(response)
    assert german in page and english not in page
    assert task_rows(app) == {}


def test_a_table_rule_reads_in_the_page_language(admin, app) -> None:  # noqa: ANN001
    with app.state.session_factory() as db:
        version = str(db.get(User, admin.user.id).version)
    form = user_form(email=admin.user.email, role="viewer", password="", version=version)
    german = page_text(admin.post(f"/admin/user/edit/{admin.user.id}", data=form, headers=GERMAN))
    assert "Der letzte aktive Admin kann nicht entfernt, herabgestuft oder deaktiviert werden." in german
    french = page_text(admin.post(f"/admin/user/edit/{admin.user.id}", data=form, headers=FRENCH))
    assert "Le dernier admin actif ne peut pas être supprimé, rétrogradé ou désactivé." in french
    english = page_text(admin.post(f"/admin/user/edit/{admin.user.id}", data=form, headers=ORIGIN))
    assert "The last active admin cannot be removed, demoted or deactivated." in english


def test_a_duplicate_names_its_table_and_field_in_german(admin, make_user) -> None:  # noqa: ANN001
    make_user("taken@example.com", Role.viewer)
    response = admin.post("/admin/user/create", data=user_form(email="Taken@Example.com"), headers=GERMAN)
    assert response.status_code == 400
    page = page_text(response)
    assert "Es gibt bereits einen Eintrag (Benutzer) mit diesem Wert für E-Mail." in page
    assert "A user with this email exists." not in page


def test_the_password_policy_reads_in_german_and_the_api_keeps_english(admin, app) -> None:  # noqa: ANN001
    minimum = app.state.passwords.min_length
    page = page_text(admin.post("/admin/user/create", data=user_form(password="short"), headers=GERMAN))
    assert f"Das Passwort muss mindestens {minimum} Zeichen lang sein." in page
    body = {"email": "short@example.com", "password": "short", "role": "viewer"}
    refused = admin.post("/api/users", json=body, headers=GERMAN)
    assert refused.status_code == 422
    assert refused.json()["detail"] == f"Password must be at least {minimum} characters long."


def test_a_version_conflict_reads_in_german(editor, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    assert editor.post(f"/admin/task/edit/{task_id}", data=task_form(status="done"), headers=ORIGIN).status_code == 302
    stale = editor.post(f"/admin/task/edit/{task_id}", data=task_form(title="Mine", version="1"), headers=GERMAN)
    page = page_text(stale)
    assert stale.status_code == 400, page[-1500:]  # the form again, with both versions side by side
    assert "Dieser Eintrag wurde seit dem Öffnen von jemand anderem geändert (jetzt Version 2)." in page


def test_a_saved_view_refusal_keeps_its_values_in_german(editor) -> None:  # noqa: ANN001
    new = "/admin/task/views/new?status=done"
    assert editor.post(new, data={"name": "Twice"}, headers=ORIGIN).status_code == 303
    again = editor.post(new, data={"name": "Twice"}, headers=GERMAN)
    assert again.status_code == 400
    assert "Sie haben bereits eine Ansicht namens 'Twice' für diese Liste." in page_text(again)


def test_the_api_says_the_same_refusals_in_english(admin, app, make_user) -> None:  # noqa: ANN001
    make_user("taken@example.com", Role.viewer)
    body = {"email": "taken@example.com", "password": "a long enough password", "role": "viewer"}
    taken = admin.post("/api/users", json=body, headers=GERMAN)
    assert taken.status_code == 409 and taken.json()["detail"] == "A user with this email exists."
    missing = admin.get("/api/tasks/999999", headers=GERMAN)
    assert missing.json()["detail"] == "Task 999999 not found."
    etag = admin.get(f"/api/users/{admin.user.id}").headers["etag"]
    demote = admin.patch(f"/api/users/{admin.user.id}", json={"role": "viewer"}, headers={**GERMAN, "If-Match": etag})
    assert demote.status_code == 409
    assert demote.json()["detail"] == "The last active admin cannot be removed, demoted or deactivated."


def test_a_related_row_that_is_not_an_id_reads_in_german(editor, app) -> None:  # noqa: ANN001
    # The form's wrapper "%(field)s: %(why)s": the field as the form labels it, the why translated.
    response = editor.post("/admin/task/create", data=task_form(assignee="not-a-number"), headers=GERMAN)
    assert response.status_code == 400
    page = page_text(response)
    assert "Zuständig: keine gültige Auswahl" in page
    assert "not a valid choice" not in page and "Assignee:" not in page and "assignee_id" not in page
    assert task_rows(app) == {}


def test_emptying_a_required_field_in_the_list_reads_in_german_and_the_api_keeps_english(  # noqa: ANN001
    editor, app, add_tasks,
) -> None:
    [task_id] = add_tasks(1)
    form = form_of(editor.get("/admin/task/list-edit", headers=GERMAN).text)
    form[f"priority-{task_id}"] = [""]  # sent as null: the Update model's "may be changed but not removed"
    response = editor.post("/admin/task/list-edit", data=form, headers=GERMAN)
    assert response.status_code == 400
    page = page_text(response)
    assert re.search(rf'id="row-{task_id}-error">.*?Priorität darf geändert, aber nicht entfernt werden', page, re.S)
    assert "may be changed but not removed" not in page
    assert "1 Zeile konnte nicht gespeichert werden (siehe jeweils daneben). Nichts wurde gespeichert." in page
    assert "could not be saved" not in page
    assert task_rows(app)[task_id].version == 1
    refused = editor.patch(f"/api/tasks/{task_id}", json={"priority": None}, headers=GERMAN)
    assert refused.status_code == 422
    assert refused.json() == {"detail": [{
        "type": "value_error", "loc": ["body"], "msg": "Value error, priority may be changed but not removed",
        "input": {"priority": None}, "ctx": {"error": {}},
    }]}


def _worded_in(language: str, refusal: InvalidInput) -> str:
    def word() -> str:
        set_language(language)
        return refusal.worded(gettext)

    return contextvars.copy_context().run(word)  # the language set in a copy: no other test sees it


def test_a_list_inside_a_sentence_is_lower_case_but_in_german_and_english(editor) -> None:  # noqa: ANN001
    # No admin page can send a column the list lacks (the chooser's form offers its own); the
    # service's refusal, worded as the admin words it, and the API's English.
    with pytest.raises(InvalidInput) as refused:
        columns.checked(TASKS, ["nope"])
    assert _worded_in("fr", refused.value) == "Les tâches n’ont pas de colonne 'nope' à afficher."
    assert _worded_in("es", refused.value) == "Las tareas no tienen ninguna columna 'nope' que mostrar."
    assert _worded_in("de", refused.value) == "Aufgaben haben keine Spalte 'nope' zum Anzeigen."
    assert _worded_in("en", refused.value) == "Tasks have no column 'nope' to show."
    assert str(refused.value) == "Tasks have no column 'nope' to show."
    api = editor.post("/api/views", json={"resource": "task", "name": "Columns", "columns": ["nope"]}, headers=GERMAN)
    assert api.status_code == 422 and api.json()["detail"] == "Tasks have no column 'nope' to show."


@pytest.mark.parametrize(("refuse", "english", "german"), [
    (lambda: forms._related_id("not-a-number"), "not a valid choice", "keine gültige Auswahl"),
    (lambda: forms._form_version({}), "version: missing; reload the page and edit again",
     "Version: fehlt; laden Sie die Seite neu und bearbeiten Sie erneut"),
], ids=["related row", "form version"])
def test_a_form_refusal_made_on_a_german_page_keeps_its_english_text(refuse, english, german) -> None:  # noqa: ANN001
    # Marked, not translated where it is raised: the text logged and str() stay English, and
    # the page words it in its own language when it shows it (admin/messages.py).
    def raise_in_german() -> InvalidInput:
        set_language("de")
        with pytest.raises(InvalidInput) as refused:
            refuse()
        return refused.value

    refusal = contextvars.copy_context().run(raise_in_german)
    assert str(refusal) == english
    assert _worded_in("en", refusal) == english
    assert _worded_in("de", refusal) == german
