"""Pages that read plainly: what a save did, who made a row, empty lists, counts, badges, times."""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime

from models import Role, TaskStatus
from tests.admin.conftest import ORIGIN, shown_count, task_rows
from tests.admin.test_admin_forms import task_form, user_form


def toasts(page: str) -> list[str]:
    return [html.unescape(m).strip() for m in re.findall(r'<div class="toast-body">(.*?)</div>', page, re.S)]


def test_a_form_validation_error_is_one_info_line(admin, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.INFO)
    response = admin.post("/admin/user/create", data=user_form(password="short"), headers=ORIGIN)
    assert response.status_code == 400
    records = [r for r in caplog.records if r.name == "sqladmin.application"]
    assert len(records) == 1
    [record] = records
    assert record.levelno == logging.INFO and record.exc_info is None
    assert "at least" in record.getMessage()
    assert "Traceback" not in caplog.text


def test_every_create_and_save_says_what_it_did(admin, editor, app) -> None:  # noqa: ANN001
    created = admin.post("/admin/user/create", data=user_form(), headers=ORIGIN)
    assert created.status_code == 302
    assert "User “new@example.com” created." in toasts(admin.get(created.headers["location"]).text)

    created = editor.post("/admin/task/create", data=task_form(), headers=ORIGIN)
    assert created.status_code == 302
    page = editor.get(created.headers["location"]).text
    [message] = toasts(page)
    task_id = int(re.fullmatch(r"Task “#(\d+) Write the report” created\.", message).group(1))
    saved = editor.post(f"/admin/task/edit/{task_id}", data=task_form(title="Renamed"), headers=ORIGIN)
    assert saved.status_code == 302
    assert toasts(editor.get(saved.headers["location"]).text) == [f"Task “#{task_id} Renamed” saved."]
    # a refused save flashes nothing
    assert editor.post("/admin/task/create", data=task_form(title=" "), headers=ORIGIN).status_code == 400
    assert toasts(editor.get("/admin/task/list").text) == []


def test_created_by_is_the_person_linked_for_those_who_may_open_it(admin, editor, app) -> None:  # noqa: ANN001
    assert editor.post("/admin/task/create", data=task_form(), headers=ORIGIN).status_code == 302
    [task_id] = task_rows(app)
    link = f'<a href="http://testserver/admin/user/details/{editor.user.id}" class="related-link">{editor.user.email}</a>'
    assert link in admin.get(f"/admin/task/details/{task_id}").text
    own = editor.get(f"/admin/task/details/{task_id}").text  # an editor may not open users
    assert editor.user.email in own and "/admin/user/details/" not in own
    assert "(user id)" not in own


def test_an_empty_result_says_so_and_offers_to_clear_the_filters(editor, add_tasks) -> None:  # noqa: ANN001
    empty = editor.get("/admin/task/list").text
    assert "No tasks yet." in empty and "Showing" not in empty
    add_tasks(2)
    page = editor.get("/admin/task/list?status=done&search=nothing&sortBy=title&sort=asc").text
    assert "No tasks match these filters." in page
    clear = re.search(r'href="([^"]+)"[^>]*id="empty-clear-filters"', page).group(1)
    assert html.unescape(clear) == "http://testserver/admin/task/list?sortBy=title&sort=asc"
    assert shown_count(page) == "0"


def test_counts_read_first_last_of_total(editor, add_tasks) -> None:  # noqa: ANN001
    add_tasks(1030)
    first = editor.get("/admin/task/list").text
    assert re.search(r'id="list-count">\s*1-25\s+of 1,030\s*</p>', first)
    last = editor.get("/admin/task/list?page=42").text
    assert re.search(r'id="list-count">\s*1,026-1,030\s+of 1,030\s*</p>', last)


def test_status_is_a_badge_priority_a_label_and_exports_keep_the_values(editor, add_tasks) -> None:  # noqa: ANN001
    add_tasks(1, status=TaskStatus.in_progress, priority=5)
    page = editor.get("/admin/task/list").text
    assert '<span class="badge bg-blue-lt choice-badge" data-value="in_progress">In progress</span>' in page
    assert '<td class="col-priority">Urgent</td>' in page
    export = editor.get("/admin/task/export/csv").text
    assert ",in_progress,5," in export
    # filters, forms and bulk prompts name priorities too
    assert ">Urgent" in page.split('id="filter-panel"')[1]
    assert '<option value="5">Urgent</option>' in editor.get("/admin/task/create").text
    assert "Urgent</option>" in editor.get("/admin/task/action/set-priority").text


def test_one_timestamp_format_with_the_exact_value_on_hover(admin, add_tasks) -> None:  # noqa: ANN001
    at = datetime(2026, 12, 1, 19, 27, 3, 471824, tzinfo=UTC)
    [task_id] = add_tasks(1, updated_at=at, created_at=at)
    shown = ('<time datetime="2026-12-01T19:27:03.471824+00:00" title="2026-12-01 19:27:03.471824+00:00">'
             "2026-12-01 19:27 UTC</time>")
    assert shown in admin.get("/admin/task/list").text
    assert shown in admin.get(f"/admin/task/details/{task_id}").text
    audit = admin.get("/admin/audit-entry/list").text
    assert re.search(r'<time datetime="[^"]+" title="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', audit)
    assert "+00:00</td>" not in audit
    admin.post("/admin/task/action/mark-done", data={"scope": "selected", "pks": str(task_id)}, headers=ORIGIN)
    for page in ("/admin/changes", "/admin/changes/1"):  # the change sets, and the first one
        text = admin.get(page).text
        assert re.search(r'<time datetime="[^"]+" title="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', text), page


def test_active_filters_are_removable_chips(editor, make_user) -> None:  # noqa: ANN001
    ann = make_user("ann@example.com", Role.editor)
    page = editor.get(f"/admin/task/list?status=pending,done&search=report&assignee={ann.id}&due_after=2026-01-01").text
    chips = {html.unescape(text).strip(): html.unescape(url) for url, text in re.findall(
        r'<a href="([^"]+)" class="badge bg-blue-lt filter-chip[^>]*>([^<]+)<', page)}
    base = "http://testserver/admin/task/list?"
    assert chips == {
        "Search: report": f"{base}status=pending%2Cdone&assignee={ann.id}&due_after=2026-01-01",
        "Status: Pending": f"{base}search=report&assignee={ann.id}&due_after=2026-01-01&status=done",
        "Status: Done": f"{base}search=report&assignee={ann.id}&due_after=2026-01-01&status=pending",
        "Assignee: ann@example.com": f"{base}status=pending%2Cdone&search=report&due_after=2026-01-01",
        "Due date after 2026-01-01": f"{base}status=pending%2Cdone&search=report&assignee={ann.id}",
    }
    assert 'id="filters-active-count">5<' in page
    assert "filter-chip" not in editor.get("/admin/task/list").text


def test_times_show_in_the_time_zone_chosen_in_my_account(admin, viewer, add_tasks) -> None:  # noqa: ANN001
    at = datetime(2026, 12, 1, 19, 27, 3, tzinfo=UTC)
    [task_id] = add_tasks(1, updated_at=at, created_at=at)
    exact = 'title="2026-12-01 19:27:03+00:00"'
    saved = admin.post("/admin/account", data={"do": "time-zone", "time_zone": "Europe/Paris"}, headers=ORIGIN)
    assert saved.status_code == 303
    assert toasts(admin.get("/admin/account").text) == ["Times now show in Europe/Paris."]
    for url in ("/admin/task/list", f"/admin/task/details/{task_id}", "/admin/"):
        page = admin.get(url).text
        assert f"{exact}>2026-12-01 20:27 CET</time>" in page, url
    assert re.search(r'<time [^>]+>\d{4}-\d\d-\d\d \d\d:\d\d CET</time>', admin.get("/admin/audit-entry/list").text)
    assert f"{exact}>2026-12-01 19:27 UTC</time>" in viewer.get("/admin/task/list").text  # others keep UTC
    refused = admin.post("/admin/account", data={"do": "time-zone", "time_zone": "Mars/Olympus"}, headers=ORIGIN)
    assert refused.status_code == 400 and "not a known time zone" in html.unescape(refused.text)
    assert "2026-12-01 20:27 CET" in admin.get("/admin/task/list").text  # unchanged
