"""The admin views: a declarative table of what staff can see and do."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import anyio
from sqladmin import action, expose
from sqladmin.filters import BooleanFilter, StaticValuesFilter
from sqladmin.helpers import get_object_identifier
from sqladmin.pagination import Pagination
from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import contains_eager
from starlette import status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    validators,
)

from admin_app import audit
from admin_app.admin import actions as acts
from admin_app.admin.bulk import BulkAction, BulkActionsMixin, BulkTarget
from admin_app.admin.export import ExportColumn, export_response
from admin_app.admin.filters import (
    STATUS_LABELS,
    AssigneeFilter,
    DateRangeFilter,
    priority_filter,
    status_filter,
)
from admin_app.admin.messages import StaffError, staff_errors
from admin_app.admin.task_query import list_state, task_filter, task_order
from admin_app.errors import InvalidInput
from admin_app.services import tasks as task_service
from admin_app.services import users as user_service
from admin_app.services.actor import Actor
from admin_app.services.search import contains_text
from admin_app.services.tasks import filter_conditions
from models import Role, Task, TaskCreate, TaskUpdate, User
from models.common import parse_db_id
from models.task_filter import TaskFilter


def admin_actor(request: Request) -> Actor:
    principal = request.app.state.authenticator.principal(request)
    return Actor.from_principal(principal, via="admin")


_PK_SLOT = "__pk_slot__"


def planner_rows(db, statement: Select) -> int:  # noqa: ANN001
    """PostgreSQL's estimate of how many rows `statement` returns (EXPLAIN, nothing run)."""
    compiled = statement.compile(
        dialect=db.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    plan = db.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
    ).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


class ApproximateCount(int):
    """A planner estimate: the list's footer reads "of about 1,000,000 items"."""

    def __str__(self) -> str:
        return f"about {int(self):,}"


class ServiceBackedView(BulkActionsMixin):
    """Writes go through the shared service layer, in one transaction per save.

    Every error leaves as a StaffError: SQLAdmin renders `str(exception)` on the form, so
    this is where raw SQL and tracebacks are kept from staff.
    """

    def _run(self, request: Request, work) -> Any:  # noqa: ANN001
        actor = admin_actor(request)
        with self.session_maker() as db, staff_errors():
            try:
                result = work(db, actor)
                db.commit()
            except BaseException:
                db.rollback()
                raise
            if result is not None:
                db.refresh(result)
            return result

    export_columns: ClassVar[list[ExportColumn]] = []

    async def export_statement(self, request: Request) -> Select:
        """The list's rows as the current search, filters and sort select them."""
        stmt = self.list_query(request)
        for filter_ in self.get_filters():
            value = request.query_params.get(filter_.parameter_name)
            if value:
                stmt = await filter_.get_filtered_query(stmt, value, self.model)
        stmt = self.sort_query(stmt, request)
        search = request.query_params.get("search")
        return self.search_query(stmt=stmt, term=search) if search else stmt

    async def get_model_objects(self, request: Request, limit: int | None = 0) -> Any:
        """For SQLAdmin's export route: the statement to stream, not a list of every row."""
        return await self.export_statement(request)

    async def export_data(
        self, data: Any, export_type: str = "csv", request: Request | None = None
    ) -> Response:
        settings = request.app.state.settings if request is not None else None
        query = dict(request.query_params) if request is not None else {}

        def record_export(rows: int) -> None:
            """Data leaving the system is traceable: who, which search and filters, how many."""
            with self.session_maker() as db, db.begin():
                audit.record(db, "export", self.identity, details={
                    "format": export_type, "query": query, "rows": rows,
                })

        return export_response(
            self.name_plural.lower(), export_type, self.export_columns, self.session_maker, data,
            timeout_ms=settings.export_statement_timeout_ms if settings else 0,
            on_done=record_export,
        )

    def list_buttons(self, request: Request) -> list[tuple[str, str]]:
        """Extra (label, url) buttons on the list page."""
        return []

    def _build_url_for(self, name: str, request: Request, obj: Any) -> URL:
        """Row links from one routed URL per page: SQLAdmin builds each with url_for (a route
        lookup and a new absolute URL, twice a row)."""
        cache = getattr(request.state, "row_urls", None)
        if cache is None:
            cache = request.state.row_urls = {}
        identity = self._identity_for_object(obj)
        template = cache.get((name, identity))
        if template is None:
            template = str(request.url_for(name, identity=identity, pk=_PK_SLOT))
            cache[(name, identity)] = template
        return URL(template.replace(_PK_SLOT, quote(str(get_object_identifier(obj)), safe="")))

    def history_url(self, request: Request, model: Any) -> str | None:
        """The audit log filtered to this row, for those who may read it (details page)."""
        if self.identity not in ("task", "user"):
            return None
        if not self._authorization_backend().has_permission(request, "audit-entry", "list"):
            return None
        query = urlencode({"entity": self.identity, "entity_id": model.id, "entity_id_op": "equals"})
        return f"{request.url_for('admin:list', identity='audit-entry')}?{query}"


# --- tasks ---------------------------------------------------------------------------------

TASK_EXPORT = [
    ExportColumn("ID", "id", Task.id),
    ExportColumn("Title", "title", Task.title),
    ExportColumn("Description", "description", Task.description),
    ExportColumn("Status", "status", Task.status),
    ExportColumn("Priority", "priority", Task.priority),
    ExportColumn("Assignee", "assignee", User.email),
    ExportColumn("Due date", "due_date", Task.due_date),
    ExportColumn("Created at", "created_at", Task.created_at),
    ExportColumn("Updated at", "updated_at", Task.updated_at),
    ExportColumn("Completed at", "completed_at", Task.completed_at),
]


def _assignee_email(task: Task, _attr: str) -> str:
    return task.assignee.email if task.assignee is not None else ""


def _status_label(task: Task, _attr: str) -> str:
    return STATUS_LABELS.get(str(task.status), str(task.status))


class TaskAdmin(ServiceBackedView, model=Task):
    name = "Task"
    name_plural = "Tasks"
    icon = "fa-solid fa-list-check"
    identity = "task"

    column_list = [
        Task.id, Task.title, Task.status, Task.priority, "assignee", Task.due_date, Task.updated_at,
    ]
    # The keys of task_query.SORT_COLUMNS: the list and export sort the same way.
    column_sortable_list = [
        Task.id, Task.title, Task.status, Task.priority, "assignee", Task.due_date, Task.updated_at,
    ]
    column_searchable_list = [Task.title, Task.description]
    column_filters = [
        status_filter(), priority_filter(), AssigneeFilter(),
        DateRangeFilter("due", "Due date"), DateRangeFilter("created", "Created"),
    ]
    column_labels = {
        Task.id: "ID", Task.title: "Title", Task.description: "Description", Task.status: "Status",
        Task.priority: "Priority", Task.version: "Version", Task.due_date: "Due date", Task.updated_at: "Updated at",
        Task.created_at: "Created at", Task.completed_at: "Completed at",
        Task.created_by_id: "Created by (user id)", "assignee": "Assignee",
    }
    column_formatters = {Task.status: _status_label, "assignee": _assignee_email}
    column_formatters_detail = {Task.status: _status_label}
    non_link_related_fields = ["assignee"]
    column_details_list = [
        Task.id, Task.title, Task.description, Task.status, Task.priority, "assignee",
        Task.due_date, Task.created_by_id, Task.created_at, Task.updated_at,
        Task.completed_at, Task.version,
    ]
    # Timestamps and completed_at are not in the form: the service sets them. The version the
    # form was opened with rides along hidden, so saving over someone else's change is refused.
    form_columns = [
        Task.title, Task.description, Task.status, Task.priority, Task.due_date, "assignee", Task.version,
    ]
    form_overrides = {"status": SelectField, "version": HiddenField}
    form_args = {"status": {"choices": list(STATUS_LABELS.items())}}
    form_widget_args = {"priority": {"min": 1, "max": 5}}
    # Searched by the browser as staff type: thousands of users are never loaded at once.
    form_ajax_refs = {
        "assignee": {"fields": ("email", "full_name"), "order_by": "email", "limit": 20}
    }
    page_size = 25
    page_size_options = [25, 50, 100, 500]
    export_columns = TASK_EXPORT
    can_import = False  # replaced by import-csv below: validated by TaskCreate, inserted set-wise
    # SQLAdmin deletes from a modal, row by row; the "Delete" action (in the list and on
    # the details page) asks on its own page and deletes in one statement.
    can_delete = False
    bulk_noun = ("task", "tasks")
    bulk_all_matching = True
    # Below this many rows (by the planner's estimate) an exact count is cheap enough.
    exact_count_below: ClassVar[int] = 100_000
    # Filtered lists are counted exactly up to this many rows, estimated beyond.
    exact_count_limit: ClassVar[int] = 1_000
    # ...but a search the planner expects to match this many rows is estimated at once: its
    # matches are scattered, and finding 1,001 of a 2% match reads some 50,000 rows.
    estimate_only_from: ClassVar[int] = 10_000

    # --- list: one query for the rows (assignee joined), one count ----------------------
    def rows_statement(self, spec: TaskFilter, order: list) -> Select:  # noqa: ANN001
        return (
            select(Task)
            .outerjoin(Task.assignee)
            .options(contains_eager(Task.assignee))
            .where(*filter_conditions(spec))
            .order_by(*order)
        )

    def count_rows(self, db, spec: TaskFilter) -> int:  # noqa: ANN001
        """How many rows the list has, without counting a million on every page (PostgreSQL).

        Unfiltered: the planner's row estimate for a big table. Filtered: an exact count up to
        `exact_count_limit` rows (an index range, cheap); past that, the planner's estimate for
        the filtered query. A search the planner expects to match `estimate_only_from` rows or
        more gets its estimate without counting. Either estimate shows as "about N". SQLite
        always counts exactly.
        """
        if db.get_bind().dialect.name != "postgresql":
            return task_service.count_tasks(db, spec)
        if spec.is_empty():
            estimate = db.execute(
                text("SELECT reltuples::bigint FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": Task.__tablename__},
            ).scalar()
            if estimate is not None and estimate >= self.exact_count_below:
                return ApproximateCount(estimate)
            return task_service.count_tasks(db, spec)
        matching = select(Task.id).where(*filter_conditions(spec))
        if spec.q:  # a substring search: how many rows a bounded count reads depends on density
            estimate = planner_rows(db, matching)
            if estimate >= self.estimate_only_from:
                return ApproximateCount(estimate)
        bounded = db.execute(
            select(func.count()).select_from(matching.limit(self.exact_count_limit + 1).subquery())
        ).scalar_one()
        if bounded <= self.exact_count_limit:
            return bounded
        return ApproximateCount(max(planner_rows(db, matching), self.exact_count_limit + 1))

    async def count(self, request: Request, stmt: Select | None = None) -> int:
        spec = task_filter(request.query_params)

        def work() -> int:
            with self.session_maker() as db:
                return self.count_rows(db, spec)

        return await anyio.to_thread.run_sync(work)

    def _list_page(self, spec: TaskFilter, order: list, page: int, size: int) -> tuple[int, list, int]:
        with self.session_maker() as db:
            count = self.count_rows(db, spec)
            page = min(max(page, 1), Pagination.max_page(count, size))
            statement = self.rows_statement(spec, order).limit(size).offset((page - 1) * size)
            rows = list(db.execute(statement).scalars().unique())
        return count, rows, page

    async def list(self, request: Request) -> Pagination:
        params = request.query_params
        page = self.validate_page_number(params.get("page"), 1)
        size = self.validate_page_number(params.get("pageSize"), self.page_size)
        if size < 1:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "Invalid page or pageSize parameter")
        size = min(size, max(self.page_size_options))
        spec, order = task_filter(params), task_order(params)
        count, rows, page = await anyio.to_thread.run_sync(self._list_page, spec, order, page, size)
        return Pagination(rows=rows, page=page, page_size=size, count=count)

    async def export_statement(self, request: Request) -> Select:
        return self.rows_statement(task_filter(request.query_params), task_order(request.query_params))

    def list_url(self, request: Request) -> str:
        """The list view the current request's parameters describe."""
        base = str(request.url_for("admin:list", identity=self.identity))
        query = list_state(request.query_params)
        return f"{base}?{query}" if query else base

    def list_buttons(self, request: Request) -> list[tuple[str, str]]:
        query = list_state(request.query_params)
        suffix = f"?{query}" if query else ""
        buttons = []
        if self.has_permission(request, "edit"):
            buttons.append(("Edit in list", str(request.url_for("admin:view-task-list_edit")) + suffix))
        if self.has_permission(request, "import"):
            buttons.append(("Import CSV", str(request.url_for("admin:view-task-import_csv"))))
        return buttons

    # --- create and edit: through the task service ---------------------------------------
    # The payload is validated by TaskCreate/TaskUpdate (as the API does); staff_errors
    # words every error of it for the form.
    async def insert_model(self, request: Request, data: dict) -> Any:
        def work(db, actor):  # noqa: ANN001, ANN202
            payload = _task_payload(data)
            return task_service.create_task(db, TaskCreate.model_validate(payload), actor=actor)

        return await run_in_threadpool(self._run, request, work)

    async def update_model(self, request: Request, pk: str, data: dict) -> Any:
        def work(db, actor):  # noqa: ANN001, ANN202
            payload = {**_task_payload(data), "version": _form_version(data)}
            task = task_service.get_task(db, int(pk))
            return task_service.update_task(
                db, task, TaskUpdate.model_validate(payload), actor=actor
            )

        return await run_in_threadpool(self._run, request, work)

    # --- bulk actions (bulk.py: GET asks, POST does) -------------------------------------
    def bulk_filter(self, request: Request) -> TaskFilter:
        return task_filter(request.query_params)

    def bulk_list_url(self, request: Request) -> str:
        return self.list_url(request)

    def bulk_count(self, db, target: BulkTarget) -> int:  # noqa: ANN001
        if target.ids is not None:
            return db.execute(
                select(func.count()).select_from(Task).where(Task.id.in_(target.ids))
            ).scalar_one()
        return task_service.count_tasks(db, target.spec)

    def bulk_value(self, db, action: BulkAction, raw: str) -> tuple[Any, str]:  # noqa: ANN001
        if action.ask == "priority":
            if raw not in {"1", "2", "3", "4", "5"}:
                raise StaffError("Priority: choose a number from 1 to 5.")
            return int(raw), raw
        if action.ask == "assignee":
            user_id = parse_db_id(raw)
            user = db.get(User, user_id) if user_id is not None else None
            if user is None:
                raise StaffError("Assignee: choose a user.")
            return user.id, user.email
        raise StaffError(f"{action.title}: nothing to ask")

    @action("mark-pending", acts.MARK_PENDING.title, add_in_detail=False)
    async def mark_pending(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.MARK_PENDING)

    @action("mark-in-progress", acts.MARK_IN_PROGRESS.title, add_in_detail=False)
    async def mark_in_progress(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.MARK_IN_PROGRESS)

    @action("mark-done", acts.MARK_DONE.title, add_in_detail=False)
    async def mark_done(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.MARK_DONE)

    @action("mark-cancelled", acts.MARK_CANCELLED.title, add_in_detail=False)
    async def mark_cancelled(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.MARK_CANCELLED)

    @action("set-priority", acts.SET_PRIORITY.title, add_in_detail=False)
    async def set_priority(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.SET_PRIORITY)

    @action("assign", acts.ASSIGN.title, add_in_detail=False)
    async def assign(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.ASSIGN)

    @action("unassign", acts.UNASSIGN.title, add_in_detail=False)
    async def unassign(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.UNASSIGN)

    @action("delete-tasks", acts.DELETE.title)
    async def delete_tasks(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.DELETE)

    # --- pages beyond SQLAdmin's ----------------------------------------------------------
    @expose("/assignees", methods=["GET"])
    async def assignees(self, request: Request) -> Response:
        """Users matching `term`, for the assignee search boxes (select2's format)."""
        if not self.has_permission(request, "list"):
            raise HTTPException(status.HTTP_403_FORBIDDEN)
        term = request.query_params.get("term", "").strip()[:100]

        def work() -> list[dict[str, str]]:
            query = (
                select(User.id, User.email, User.full_name, User.is_active)
                .where(contains_text(term, User.email, User.full_name))
                .order_by(User.email)
                .limit(20)
            )
            with self.session_maker() as db:
                rows = db.execute(query).all()
            return [
                {"id": str(r.id), "text": r.email + ("" if r.is_active else " (inactive)")}
                for r in rows
            ]

        return JSONResponse({"results": await anyio.to_thread.run_sync(work)})

    @expose("/list-edit", methods=["GET", "POST"])
    async def list_edit(self, request: Request) -> Response:
        from admin_app.admin.list_edit import list_edit_page

        return await list_edit_page(self, request)

    @expose("/import-csv", methods=["GET", "POST"])
    async def import_csv(self, request: Request) -> Response:
        from admin_app.admin.task_import import import_page

        return await import_page(self, request)


def _task_payload(data: dict) -> dict[str, Any]:
    """The form's data as the Task models name it (assignee -> assignee_id)."""
    payload = {k: v for k, v in data.items() if k in task_service.TaskCreate.model_fields}
    if payload.get("description") == "":
        payload["description"] = None
    if "assignee" in data:
        payload["assignee_id"] = _assignee_id(data["assignee"])
    return payload


def _form_version(data: dict) -> int:
    """The version an edit form was opened with; a form without one cannot be checked."""
    value = data.get("version")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    raise InvalidInput("version: missing; reload the page and edit again")


def _assignee_id(value: Any) -> int | None:
    # SQLAdmin's ajax select gives the chosen id as text; a plain select gives the user.
    if value in (None, "", "__None"):
        return None
    if isinstance(value, User):
        return value.id
    assignee_id = parse_db_id(value)
    if assignee_id is None:
        raise InvalidInput("assignee: not a valid choice")
    return assignee_id


# --- users ---------------------------------------------------------------------------------

USER_EXPORT = [
    ExportColumn("ID", "id", User.id),
    ExportColumn("Email", "email", User.email),
    ExportColumn("Full name", "full_name", User.full_name),
    ExportColumn("Role", "role", User.role),
    ExportColumn("Active", "is_active", User.is_active),
    ExportColumn("Last login", "last_login_at", User.last_login_at),
    ExportColumn("Created at", "created_at", User.created_at),
]


class UserForm(Form):
    """The user form: no hash anywhere; a password field that is hashed on save."""

    email = StringField("Email", validators=[validators.InputRequired(), validators.Length(max=254)])
    full_name = StringField("Full name", validators=[validators.Optional(), validators.Length(max=200)])
    role = SelectField("Role", choices=[(r.value, r.value) for r in Role], default=Role.viewer.value)
    is_active = BooleanField("Active", default=True)
    password = PasswordField(
        "Password",
        validators=[validators.Optional()],
        description="Required for a new user. On edit, leave blank to keep the current password.",
    )


class UserAdmin(ServiceBackedView, model=User):
    name = "User"
    name_plural = "Users"
    icon = "fa-solid fa-users"
    identity = "user"

    column_list = [User.id, User.email, User.full_name, User.role, User.is_active, User.last_login_at]
    column_details_list = [
        User.id, User.email, User.full_name, User.role, User.is_active, User.last_login_at,
        User.created_at, User.updated_at, User.version,
    ]
    column_labels = {
        User.id: "ID", User.email: "Email", User.role: "Role", User.version: "Version",
        User.full_name: "Name", User.is_active: "Active",
        User.last_login_at: "Last login", User.created_at: "Created at",
        User.updated_at: "Updated at",
    }
    column_searchable_list = [User.email, User.full_name]
    column_sortable_list = [User.id, User.email, User.full_name, User.role, User.last_login_at]
    column_default_sort = [(User.id, False)]
    column_filters = [
        StaticValuesFilter(User.role, values=[(r.value, r.value.title()) for r in Role], title="Role"),
        BooleanFilter(User.is_active, title="Active"),
    ]
    export_columns = USER_EXPORT
    form = UserForm
    can_import = False
    bulk_noun = ("user", "users")

    async def insert_model(self, request: Request, data: dict) -> Any:
        passwords = request.app.state.passwords

        def work(db, actor):  # noqa: ANN001, ANN202
            if not data.get("password"):
                raise InvalidInput("password: a new user needs a password")
            return user_service.create_user(
                db, passwords, email=data.get("email") or "", password=data["password"],
                role=data.get("role") or Role.viewer, full_name=data.get("full_name") or "",
            )

        return await run_in_threadpool(self._run, request, work)

    async def update_model(self, request: Request, pk: str, data: dict) -> Any:
        passwords = request.app.state.passwords
        changes = {k: data.get(k) for k in ("email", "full_name", "role", "is_active")}
        changes["full_name"] = changes["full_name"] or ""
        if data.get("password"):
            changes["password"] = data["password"]

        def work(db, actor):  # noqa: ANN001, ANN202
            user = user_service.get_user(db, int(pk))
            return user_service.update_user(
                db, passwords, user, user_service.validate_user_update(changes),
                keep_session_id=_session_id(request) if user.id == actor.user_id else None,
            )

        return await run_in_threadpool(self._run, request, work)

    async def delete_model(self, request: Request, pk: Any) -> None:
        def work(db, actor):  # noqa: ANN001, ANN202
            user_service.delete_user(db, user_service.get_user(db, int(pk)))

        await run_in_threadpool(self._run, request, work)

    # --- bulk actions ---------------------------------------------------------------------
    def bulk_count(self, db, target: BulkTarget) -> int:  # noqa: ANN001
        return db.execute(
            select(func.count()).select_from(User).where(User.id.in_(target.ids or []))
        ).scalar_one()

    def bulk_list_url(self, request: Request) -> str:
        base = str(request.url_for("admin:list", identity=self.identity))
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "pks"]
        return f"{base}?{urlencode(kept)}" if kept else base

    @action("activate", acts.ACTIVATE.title)
    async def activate(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.ACTIVATE)

    @action("deactivate", acts.DEACTIVATE.title)
    async def deactivate(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.DEACTIVATE)

    @action("end-sessions", acts.END_SESSIONS.title)
    async def end_sessions(self, request: Request) -> Response:
        return await self.run_bulk(request, acts.END_SESSIONS)


def _session_id(request: Request) -> str | None:
    principal = request.app.state.authenticator.principal(request)
    return principal.session_id if principal else None
