"""Exporting a filtered task list: the file holds exactly the rows the list shows."""

import csv
import io

from sqlalchemy import select

from models import AuditEntry, Task
from tests.e2e.conftest import VIEWER, expect_ids, filter_panel, loaded, login, make_tasks, marker, task_ids


def test_csv_export_of_a_filtered_list_has_exactly_its_rows(page, db, events) -> None:  # noqa: ANN001
    mark = marker()
    make_tasks(db, [{"title": f"Export {i} {mark}", "status": "pending", "priority": 3} for i in range(7)])
    make_tasks(db, [{"title": f"Export {i} {mark}", "status": "done", "priority": 3} for i in range(4)])
    make_tasks(db, [{"title": f"Not exported {mark}", "status": "pending", "priority": 1}])
    # A title a spreadsheet would run as a formula.
    make_tasks(db, [{"title": f"=HYPERLINK(\"http://evil\") {mark}", "status": "pending", "priority": 3}])
    wanted = task_ids(db, Task.title.contains(mark), Task.status == "pending", Task.priority == 3)
    assert len(wanted) == 8

    login(page, VIEWER)  # exporting is reading: a viewer may
    page.goto(f"/admin/task/list?search={mark}")
    sidebar = filter_panel(page)
    sidebar.get_by_role("link", name="Pending", exact=True).click()
    sidebar.get_by_role("link", name="High", exact=True).click()
    expect_ids(page, wanted)

    loaded(page)
    page.locator("#export-menu").click()
    with page.expect_download() as download_info:
        page.locator("#export-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("tasks_") and download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    assert [int(row["ID"]) for row in rows] == wanted
    assert {row["Status"] for row in rows} == {"pending"} and {row["Priority"] for row in rows} == {"3"}
    assert f"'=HYPERLINK(\"http://evil\") {mark}" in {row["Title"] for row in rows}

    # Data leaving the system is on record, with the filter and how many rows.
    with db() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id.desc()).limit(1)
        ).scalar_one()
    assert entry.actor_label == VIEWER[0]
    assert entry.details["rows"] == len(wanted) and entry.details["query"]["search"] == mark
    assert events.problems() == []
