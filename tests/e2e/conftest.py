"""Browser tests: the real app on a free port, driven through Debian's Chromium by Playwright.

Without Chromium the tests are skipped with that reason; with REQUIRE_BROWSER=1 (CI) they fail.
The app runs on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set. On a failure the test's
screenshot and page HTML are saved under test-artifacts/e2e/<test>/ (printed in the report).
`--screenshots DIR` writes the README's pictures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.helpers import running_server, serve_env

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
ADMIN = ("admin@example.com", "admin password for e2e")
EDITOR = ("editor@example.com", "editor password for e2e")
VIEWER = ("viewer@example.com", "viewer password for e2e")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--screenshots", default=None, metavar="DIR",
                     help="write the README's screenshots into DIR while the browser tests run")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The page tour runs first, so its screenshots show the demo data, not other tests' rows.
    here = Path(__file__).parent
    tour = [item for item in items if item.path == here / "test_pages.py"]
    if tour:
        first = min(index for index, item in enumerate(items) if item.path.parent == here)
        rest = [item for item in items if item.path != here / "test_pages.py"]
        items[:] = rest[:first] + tour + rest[first:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


# Package scope, not session: the browser and its server end with the last browser test. Playwright's
# sync API keeps an asyncio loop running in the main thread while it is open, and under xdist the
# worker that ran them goes on to other tests (anyio.run() in the test then refuses to start).
@pytest.fixture(scope="package")
def browser():  # noqa: ANN201
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # The machine is shared: give a slow page the same patience as an action (10 s).
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@dataclass
class LiveServer:
    url: str
    database_url: str
    env: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "admin_app", *args], input=stdin, capture_output=True,
            text=True, env=self.env, check=True,
        )
        return result.stdout


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[LiveServer]:  # noqa: ANN001
    folder = tmp_path_factory.mktemp("e2e")
    if os.environ.get("TEST_DATABASE_URL"):
        from tests.conftest import PostgresDatabases

        databases = PostgresDatabases(os.environ["TEST_DATABASE_URL"])
        database_url = databases.create("admin_e2e")
    else:
        databases = None
        database_url = f"sqlite:///{folder}/e2e.db"
    extra = {"INITIAL_ADMIN_EMAIL": ADMIN[0], "INITIAL_ADMIN_PASSWORD": ADMIN[1],
             "SECRET_KEY": "e2e-secret-key-0123456789-abcdefghijklmnop",
             # A bulk action or an import of 300 rows or more is a job (test_jobs.py); the other
             # tests' are smaller. An import's chunk is a fifth of JOB_CHUNK_ROWS: 10 rows.
             "BULK_JOB_MIN_ROWS": "300", "IMPORT_JOB_MIN_ROWS": "300", "JOB_CHUNK_ROWS": "50",
             "JOB_POLL_SECONDS": "0.2"}
    try:
        with running_server(database_url, folder, **extra) as (url, _process, _log):
            server = LiveServer(url=url, database_url=database_url, env=serve_env(database_url, **extra))
            server.cli("create-user", EDITOR[0], "--role", "editor", "--password-stdin", stdin=EDITOR[1] + "\n")
            server.cli("create-user", VIEWER[0], "--role", "viewer", "--password-stdin", stdin=VIEWER[1] + "\n")
            server.cli("demo-data", "--tasks", "120", "--seed", "7")
            yield server
    finally:
        if databases is not None:
            databases.drop_all()


@dataclass
class BrowserEvents:
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def console(self, message) -> None:  # noqa: ANN001
        # A page answered 4xx on purpose (a refused login) is logged as "Failed to load
        # resource"; sub-resources are checked by status in response() instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def response(self, response) -> None:  # noqa: ANN001
        if response.request.resource_type != "document" and response.status >= 400:
            self.failed_requests.append(f"{response.status} {response.url}")

    def request_failed(self, request) -> None:  # noqa: ANN001
        # ERR_ABORTED is the browser cancelling a load because the test navigated on.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.failed_requests.append(f"{request.url} {request.failure}")

    def problems(self) -> list[str]:
        return self.console_errors + self.failed_requests


@pytest.fixture
def events() -> BrowserEvents:
    return BrowserEvents()


class Contexts:
    """The test's browser contexts: each watched for problems, saved as evidence on failure."""

    def __init__(self, browser, base_url: str, events: BrowserEvents) -> None:  # noqa: ANN001
        self.browser, self.base_url, self.events = browser, base_url, events
        self.open: list = []

    def new_page(self, width: int = 1400, height: int = 900):  # noqa: ANN201
        context = self.browser.new_context(base_url=self.base_url, accept_downloads=True,
                                           viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        self.open.append(context)
        page = context.new_page()
        events = self.events
        page.on("console", lambda msg: events.console(msg))
        page.on("pageerror", lambda exc: events.console_errors.append(str(exc)))
        page.on("requestfailed", lambda req: events.request_failed(req))
        page.on("response", lambda response: events.response(response))
        return page

    def save_evidence(self, name: str) -> None:
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
        folder.mkdir(parents=True, exist_ok=True)
        for c_index, context in enumerate(self.open):
            for p_index, open_page in enumerate(context.pages):
                stem = folder / f"browser{c_index}-page{p_index}"
                open_page.screenshot(path=f"{stem}.png", full_page=True)
                stem.with_suffix(".html").write_text(open_page.content())
        print(f"\nbrowser evidence saved in {folder}")

    def close(self) -> None:
        for context in self.open:
            context.close()


@pytest.fixture
def contexts(browser, live_server: LiveServer, events: BrowserEvents, request: pytest.FixtureRequest):  # noqa: ANN001, ANN201
    opened = Contexts(browser, live_server.url, events)
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        opened.save_evidence(request.node.name)
    opened.close()


@pytest.fixture
def page(contexts: Contexts):  # noqa: ANN201
    return contexts.new_page()


@pytest.fixture
def new_page(contexts: Contexts):  # noqa: ANN201
    """A second, independent browser (its own cookies): for two people at once."""
    return contexts.new_page


@pytest.fixture
def shoot(request: pytest.FixtureRequest):  # noqa: ANN201
    """shoot(page, "name") writes DIR/name.png when --screenshots DIR was given."""
    target = request.config.getoption("--screenshots")

    def take(page, name: str) -> None:  # noqa: ANN001
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=False)

    return take


def login(page, who: tuple[str, str]) -> None:  # noqa: ANN001
    page.goto("/admin/login")
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/(?!login).*"))


# --- checking what the pages claim against the database -------------------------------------

@pytest.fixture(scope="package")
def db(live_server: LiveServer):  # noqa: ANN201
    """A session factory on the live server's database."""
    from admin_app.db import build_engine, build_session_factory
    from tests.conftest import make_settings

    engine = build_engine(make_settings(live_server.database_url))
    yield build_session_factory(engine)
    engine.dispose()


def marker() -> str:
    """A word no other test's data contains: a test searches for it to see only its own rows."""
    return f"e2e{uuid.uuid4().hex[:10]}"


def user_id(db, email: str) -> int:  # noqa: ANN001
    from sqlalchemy import select

    from models import User

    with db() as session:
        return session.execute(select(User.id).where(User.email == email)).scalar_one()


def make_tasks(db, rows: list[dict]) -> list[int]:  # noqa: ANN001
    """Create tasks through the task service, audited as the CLI's; their ids, in order."""
    from admin_app import audit
    from admin_app.resources import default_resources
    from admin_app.resources.tasks import TASKS
    from admin_app.services import records
    from admin_app.services.actor import CLI_ACTOR
    from admin_app.services.unit import unit_of_work
    from models import TaskCreate

    audit.install(default_resources())
    with unit_of_work(db, CLI_ACTOR) as ctx:
        tasks = [records.create(ctx, TASKS, TaskCreate(**row)) for row in rows]
        return [task.id for task in tasks]


def task_ids(db, *conditions, order=None) -> list[int]:  # noqa: ANN001
    """Ids of the tasks matching `conditions`, queried directly (newest first by default)."""
    from sqlalchemy import select

    from models import Task

    with db() as session:
        query = select(Task.id).where(*conditions).order_by(*(order or [Task.id.desc()]))
        return list(session.execute(query).scalars())


def loaded(page: Page) -> None:
    """Wait for the current page's scripts (dropdowns need Bootstrap's) after a check that
    proved the new page is there: a click right after a navigation could beat them."""
    page.wait_for_load_state("load")


def id_cells(page: Page) -> Locator:
    """The ID column of the list."""
    return page.locator("table tbody tr td.col-id")


def filter_panel(page: Page) -> Locator:
    """The list's filter panel, opened if it is closed."""
    panel = page.locator("#filter-panel")
    if not panel.is_visible():
        page.locator("#filters-toggle").click()
        expect(panel).to_be_visible()
    return panel


def list_count(page: Page) -> Locator:
    """The list footer's "1-25 of 1,204"."""
    return page.locator("#list-count")


def expect_ids(page: Page, ids: list[int]) -> None:
    """The list shows exactly these rows, in this order (waits for the page to get there)."""
    expect(id_cells(page)).to_have_text([str(i) for i in ids])


def shown_ids(page: Page) -> list[int]:
    return [int(text) for text in id_cells(page).all_inner_texts()]
