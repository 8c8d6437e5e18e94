"""WCAG 2.2 AA, checked by axe-core (bundled by axe-playwright-python) on every kind of admin
page, in the light and the dark theme: no serious or critical violation.

The theme comes from the browser (`emulate_media`): the shared users keep the default theme,
"follow the system". Each page's rule counts (all impacts) are printed and written to
test-artifacts/a11y-report.txt.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN, loaded, login, make_tasks, marker

DETAILS = REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "a11y-report.txt"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING = {"serious", "critical"}
AXE = Axe()


def audit(page) -> list[dict]:  # noqa: ANN001
    """axe's violations on the page as it is now, WCAG A and AA rules only."""
    loaded(page)
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    return AXE.run(page, options=options).response["violations"]


def open_filters(page) -> None:  # noqa: ANN001
    page.locator("#filters-toggle").click()
    expect(page.locator("#filter-panel")).to_be_visible()
    page.wait_for_timeout(400)  # the collapse's animation: axe would see half-faded text


def visit(page, tmp_path: Path, task_ids: list[int], mark: str):  # noqa: ANN001, ANN201
    """Each page to check, in turn, as (name, page ready for axe)."""
    page.goto("/admin/login")
    yield "login"
    login(page, ADMIN)
    page.goto("/admin/")
    yield "dashboard"
    for table in ("task", "project", "user"):
        page.goto(f"/admin/{table}/list")
        loaded(page)
        open_filters(page)
        yield f"{table} list, filters open"
    page.goto(f"/admin/task/details/{task_ids[0]}")
    yield "task details"
    page.goto("/admin/task/create")
    page.fill("#title", "   ")  # passes `required`, refused by the server
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-danger")).to_contain_text("Title")
    yield "task form with an error"
    page.goto(f"/admin/task/action/mark-done?pks={','.join(map(str, task_ids[:3]))}&search={mark}")
    expect(page.locator("#bulk-submit")).to_be_visible()
    yield "bulk confirmation"
    csv_file = tmp_path / "tasks.csv"
    csv_file.write_text(f"title,priority,due_date\nFirst {mark},High,\nSecond {mark},9,2026-13-45\n")
    page.goto("/admin/task/import-csv")
    page.locator("#csvfile").set_input_files(str(csv_file))
    page.locator("#import-preview-button").click()
    expect(page.locator("#import-problems tbody tr")).to_have_count(2)
    yield "import with problems"
    page.goto("/admin/account")
    yield "my account"
    page.goto("/admin/audit-entry/list")
    loaded(page)
    open_filters(page)
    yield "audit log, filters open"
    page.goto("/admin/changes")
    yield "change sets"


def report_lines(theme: str, results: dict[str, list[dict]]) -> list[str]:
    lines = [f"== axe-core, WCAG 2.0/2.1/2.2 A+AA, {theme} theme =="]
    for name, violations in results.items():
        counts = Counter()
        for violation in violations:
            counts[f"{violation['id']} ({violation['impact']})"] += len(violation["nodes"])
        summary = ", ".join(f"{rule}: {n}" for rule, n in sorted(counts.items())) or "none"
        lines.append(f"{name:<28} {summary}")
    return lines


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_has_no_serious_or_critical_violation(new_page, db, events, tmp_path, theme) -> None:  # noqa: ANN001
    mark = marker()
    ids = make_tasks(db, [{"title": f"Accessible {i} {mark}", "status": "pending"} for i in range(3)])
    page = new_page(1366, 768)
    page.emulate_media(color_scheme=theme)
    results: dict[str, list[dict]] = {}
    for name in visit(page, tmp_path, ids, mark):
        assert page.evaluate("() => document.documentElement.getAttribute('data-bs-theme')") == theme, name
        results[name] = audit(page)
    lines = report_lines(theme, results)
    print("\n" + "\n".join(lines))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    previous = REPORT.read_text() if REPORT.exists() else ""
    kept = [block.strip() for block in previous.split("\n\n") if block.strip() and f", {theme} theme" not in block]
    REPORT.write_text("\n\n".join([*kept, "\n".join(lines)]) + "\n")
    DETAILS.with_name(f"a11y-{theme}.json").write_text(json.dumps(
        {name: [{"id": v["id"], "impact": v["impact"], "nodes": [
            {"target": n["target"], "summary": n.get("failureSummary", "")} for n in v["nodes"]]}
            for v in violations] for name, violations in results.items()}, indent=1))
    failing = {
        name: [f"{v['id']} ({v['impact']}): {v['help']} -- {[n['target'] for n in v['nodes']][:5]}"
               for v in violations if v["impact"] in FAILING]
        for name, violations in results.items()
    }
    assert {name: found for name, found in failing.items() if found} == {}
    assert [p for p in events.problems() if "400" not in p] == []
