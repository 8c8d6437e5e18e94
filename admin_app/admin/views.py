"""The admin views: a declarative table of what staff can see and do."""

from __future__ import annotations

from typing import Any

from sqladmin import ModelView
from sqlalchemy.exc import SQLAlchemyError
from wtforms import BooleanField, Form, PasswordField, SelectField, StringField, validators
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from admin_app.audit import bind_actor
from admin_app.errors import InvalidInput, ServiceError
from admin_app.failures import DatabaseUnavailable, database_failure
from admin_app.services import tasks as task_service
from admin_app.services import users as user_service
from admin_app.services.actor import Actor
from models import Role, Task, User


def admin_actor(request: Request) -> Actor:
    principal = request.app.state.authenticator.principal(request)
    return Actor.from_principal(principal, via="admin")


class ServiceBackedView(ModelView):
    """Writes go through the shared service layer, in one transaction per save."""

    def _run(self, request: Request, work) -> Any:  # noqa: ANN001
        actor = admin_actor(request)
        with self.session_maker() as db:
            bind_actor(db, actor)
            try:
                result = work(db, actor)
                db.commit()
                if result is not None:
                    db.refresh(result)
            except ServiceError:
                db.rollback()
                raise
            except SQLAlchemyError as exc:
                # SQLAdmin shows str() of a failed save on the form: words, not SQL.
                failure = database_failure(exc)
                if failure is None:
                    raise
                raise DatabaseUnavailable(failure) from exc
            return result


class TaskAdmin(ServiceBackedView, model=Task):
    name = "Task"
    name_plural = "Tasks"
    icon = "fa-solid fa-list-check"
    identity = "task"

    column_list = [
        Task.id, Task.title, Task.status, Task.priority, "assignee", Task.due_date, Task.updated_at,
    ]
    column_sortable_list = [
        Task.id, Task.title, Task.status, Task.priority, Task.due_date, Task.updated_at,
    ]
    column_searchable_list = [Task.title, Task.description]
    column_default_sort = [(Task.id, True)]
    column_details_exclude_list = []
    form_columns = [Task.title, Task.description, Task.status, Task.priority, Task.due_date, "assignee"]
    page_size = 25
    page_size_options = [25, 50, 100, 500]

    async def insert_model(self, request: Request, data: dict) -> Any:
        payload = _task_payload(data)

        def work(db, actor):  # noqa: ANN001, ANN202
            return task_service.create_task(db, task_service.validate_create(payload), actor=actor)

        return await run_in_threadpool(self._run, request, work)

    async def update_model(self, request: Request, pk: str, data: dict) -> Any:
        payload = _task_payload(data)

        def work(db, actor):  # noqa: ANN001, ANN202
            task = task_service.get_task(db, int(pk))
            return task_service.update_task(
                db, task, task_service.validate_update(payload), actor=actor
            )

        return await run_in_threadpool(self._run, request, work)

    async def delete_model(self, request: Request, pk: Any) -> None:
        def work(db, actor):  # noqa: ANN001, ANN202
            task_service.delete_task(db, task_service.get_task(db, int(pk)), actor=actor)

        await run_in_threadpool(self._run, request, work)


def _task_payload(data: dict) -> dict[str, Any]:
    payload = {k: v for k, v in data.items() if k in task_service.TaskCreate.model_fields}
    assignee = data.get("assignee")
    if "assignee" in data:
        payload["assignee_id"] = getattr(assignee, "id", None) if assignee is not None else None
    return payload


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
    column_export_list = [User.id, User.email, User.full_name, User.role, User.is_active, User.last_login_at]
    column_searchable_list = [User.email, User.full_name]
    column_sortable_list = [User.id, User.email, User.full_name, User.role, User.last_login_at]
    column_default_sort = [(User.id, False)]
    form = UserForm
    can_import = False

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
                keep_session_id=None if user.id != actor.user_id else _session_id(request),
            )

        return await run_in_threadpool(self._run, request, work)

    async def delete_model(self, request: Request, pk: Any) -> None:
        def work(db, actor):  # noqa: ANN001, ANN202
            user_service.delete_user(db, user_service.get_user(db, int(pk)))

        await run_in_threadpool(self._run, request, work)


def _session_id(request: Request) -> str | None:
    principal = request.app.state.authenticator.principal(request)
    return principal.session_id if principal else None
