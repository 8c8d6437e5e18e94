"""What the pages give assistive technology, in their HTML: a skip link first, a name on every
row checkbox and icon link, and a refused form's errors announced and tied to their fields.
(The browser tests run axe-core on the rendered pages: tests/e2e/test_accessibility.py.)"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.admin.conftest import ORIGIN
from tests.admin.test_admin_forms import task_form


class Elements(HTMLParser):
    """Every start tag as (tag, attributes), in document order; text inside an element by id."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: dict[str, str] = {}
        self.open_ids: list[tuple[str, str]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.tags.append((tag, found))
        if "id" in found and tag not in {"input", "br", "img", "hr", "meta", "link"}:
            self.open_ids.append((tag, found["id"]))
            self.text[found["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self.open_ids and self.open_ids[-1][0] == tag:
            self.open_ids.pop()

    def handle_data(self, data: str) -> None:
        for _tag, element_id in self.open_ids:
            self.text[element_id] += data

    def by_id(self, element_id: str) -> dict[str, str]:
        [found] = [attrs for _tag, attrs in self.tags if attrs.get("id") == element_id]
        return found

    def focusable(self) -> list[tuple[str, dict[str, str]]]:
        return [(tag, attrs) for tag, attrs in self.tags
                if ((tag == "a" and "href" in attrs) or (tag in {"button", "select", "textarea"})
                    or (tag == "input" and attrs.get("type") != "hidden"))
                and attrs.get("tabindex") != "-1"]


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_skip_link_is_the_first_focusable_element_and_leads_to_the_content(editor) -> None:  # noqa: ANN001
    for path in ("/admin/", "/admin/task/list", "/admin/account", "/admin/task/create"):
        page = Elements(editor.get(path).text)
        tag, attrs = page.focusable()[0]
        assert (tag, attrs.get("id"), attrs.get("href")) == ("a", "skip-link", "#main-content"), path
        assert words(page.text["skip-link"]) == "Skip to content"
        assert page.by_id("main-content")["tabindex"] == "-1"  # focusable by the link, not by Tab
        # One main landmark: the page beside the menu, the skip link's target inside it.
        mains = [attrs for tag, attrs in page.tags if attrs.get("role") == "main" or tag == "main"]
        assert [m.get("class") for m in mains] == ["page-wrapper"], path


def test_the_login_pages_content_is_the_main_landmark(app) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as anonymous:
        page = Elements(anonymous.get("/admin/login").text)
    assert [tag for tag, attrs in page.tags if tag == "main" or attrs.get("role") == "main"] == ["main"]


def test_row_checkboxes_and_icon_links_are_named_after_their_row(editor, add_tasks) -> None:  # noqa: ANN001
    ids = add_tasks(2)
    page = Elements(editor.get("/admin/task/list").text)
    boxes = [a["aria-label"] for t, a in page.tags if t == "input" and "select-box" in a.get("class", "")]
    assert boxes == [f"Select task {i}" for i in sorted(ids, reverse=True)]
    assert page.by_id("select-all")["aria-label"] == "Select all tasks on this page"
    labels = {a.get("aria-label") for t, a in page.tags if t == "a"}
    assert {f"View task {ids[0]}", f"Edit task {ids[0]}", f"View task {ids[1]}", f"Edit task {ids[1]}"} <= labels
    # The sidebar menu is a list of its items (axe: listitem).
    assert any(t == "ul" and "navbar-nav" in a.get("class", "") for t, a in page.tags)
    # A disabled "prev" is announced as such and left out of the Tab order.
    prev = [a for t, a in page.tags if t == "a" and "page-link" in a.get("class", "")][0]
    assert (prev.get("aria-disabled"), prev.get("tabindex")) == ("true", "-1")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "Title: must not be blank"),  # refused by the model's validation
        ("assignee", "999999", "Assignee: no user with id 999999"),  # by the service, a relation
        ("priority", "6", "Priority: Not a valid choice."),  # by the form (WTForms)
    ],
)
def test_a_refused_form_announces_its_errors_and_ties_each_to_its_field(editor, field, value, message) -> None:  # noqa: ANN001
    response = editor.post("/admin/task/create", data=task_form(**{field: value}), headers=ORIGIN)
    assert response.status_code == 400
    page = Elements(response.text)
    summary = page.by_id("form-errors")
    assert summary["role"] == "alert" and summary["tabindex"] == "-1"
    assert words(page.text["form-errors"]) == message
    [link] = [a for t, a in page.tags if t == "a" and a.get("href") == f"#{field}" and "alert-link" in a.get("class", "")]
    assert link
    control = page.by_id(field)
    assert control["aria-invalid"] == "true"
    assert control["aria-describedby"] == f"{field}-error"
    assert message.split(": ", 1)[1] in words(page.text[f"{field}-error"])
    # The other fields are not marked.
    assert "aria-invalid" not in page.by_id("description")


def test_an_error_naming_no_field_is_shown_as_it_is(editor, app, monkeypatch) -> None:  # noqa: ANN001
    from admin_app.errors import ServiceError
    from admin_app.services import records

    def refuse(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise ServiceError("The database is read-only today.")

    monkeypatch.setattr(records, "create", refuse)
    response = editor.post("/admin/task/create", data=task_form(), headers=ORIGIN)
    assert response.status_code == 400
    page = Elements(response.text)
    assert words(page.text["form-errors"]) == "The database is read-only today."
    assert not [a for t, a in page.tags if "aria-invalid" in a]


def test_an_edit_refused_ties_the_error_to_its_field(editor, add_tasks) -> None:  # noqa: ANN001
    [task_id] = add_tasks(1)
    response = editor.post(f"/admin/task/edit/{task_id}", data=task_form(title="  "), headers=ORIGIN)
    assert response.status_code == 400
    page = Elements(response.text)
    assert page.by_id("form-errors")["role"] == "alert"
    assert words(page.text["form-errors"]) == "Title: must not be blank"
    assert page.by_id("title")["aria-describedby"] == "title-error"
