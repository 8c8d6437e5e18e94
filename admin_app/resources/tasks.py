"""Tasks: what staff and scripts see and do with them."""

from __future__ import annotations

from typing import Any

from admin_app.resources.spec import (
    Api,
    Choice,
    DateRange,
    DeleteRows,
    Field,
    Lookup,
    Preset,
    Relation,
    Resource,
    Rules,
    Schemas,
    SetField,
    set_each_choice,
)
from models import Project, Task, TaskCreate, TaskPublic, TaskReplace, TaskStatus, TaskUpdate, User
from models.task import PRIORITY_LABELS, STATUS_LABELS, completed_at_for

OPEN = [TaskStatus.pending.value, TaskStatus.in_progress.value]


class TaskRules(Rules):
    def prepare_create(self, ctx: Any, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "created_by_id": ctx.actor.user_id}

    def derived(self, values: Any, current: Any, now: Any) -> dict[str, Any]:
        if "status" not in values:
            return {}
        return {"completed_at": completed_at_for(values["status"], current.completed_at, now)}


TASKS = Resource(
    Task, "task", "Task", "Tasks", icon="fa-solid fa-list-check",
    schemas=Schemas(TaskCreate, TaskUpdate, TaskPublic, replace=TaskReplace),
    fields=(
        Field("id", "ID"),
        Field("title", "Title"),
        Field("description", "Description"),
        Field("status", "Status", choices=STATUS_LABELS, badges={
            TaskStatus.pending: "grey", TaskStatus.in_progress: "blue", TaskStatus.done: "green",
            TaskStatus.cancelled: "dark",
        }),
        Field("priority", "Priority", choices=PRIORITY_LABELS),
        Relation("assignee", "Assignee", "assignee_id", User, "email", ("email", "full_name"), "be unassigned"),
        Relation("project", "Project", "project_id", Project, "code", ("code", "name"), "lose their project"),
        Field("due_date", "Due date"),
        Relation("created_by", "Created by", "created_by_id", User, "email", orphaned="lose their creator"),
        Field("created_at", "Created at"),
        Field("updated_at", "Updated at"),
        Field("completed_at", "Completed at"),
        Field("version", "Version"),
    ),
    list_columns=("id", "title", "status", "priority", "assignee", "project", "due_date", "updated_at"),
    sortable=("id", "title", "status", "priority", "assignee", "project", "due_date", "created_at", "updated_at"),
    searchable=("title", "description"),
    search_index=True,  # 0015_sqlite_trigram_search: task_search
    filters=(
        Choice("status"), Choice("priority"), Lookup("assignee"), Lookup("project"),
        DateRange("due_date", "due"), DateRange("created_at", "created"),
    ),
    presets=(
        Preset("open", "Open (pending or in progress)", {"status": OPEN}),
        Preset("overdue", "Overdue (open, due before today)", lambda today: {"status": OPEN, "due_before": today}),
    ),
    list_editable=("status", "priority", "assignee", "project", "due_date"),
    actions=(
        *set_each_choice("status", STATUS_LABELS, slug="mark-{slug}", title="Mark as {label}",
                         done="marked {label}", unchanged="already {label}"),
        SetField("set-priority", "Set priority", "priority", done="set to priority {value}", unchanged="already at it"),
        SetField("assign", "Assign to a user", "assignee", done="assigned to {value}", unchanged="already theirs"),
        SetField("unassign", "Unassign", "assignee", None, done="unassigned", unchanged="already unassigned"),
        SetField("move-to-project", "Move to project", "project", done="moved to {value}", unchanged="already in it"),
        DeleteRows("delete-tasks"),
    ),
    import_columns=("title", "description", "status", "priority", "due_date", "assignee", "project"),
    export_columns=(
        "id", "title", "description", "status", "priority", "assignee", "project", "due_date",
        "created_at", "updated_at", "completed_at",
    ),
    detail_columns=(
        "id", "title", "description", "status", "priority", "assignee", "project", "due_date",
        "created_by", "created_at", "updated_at", "completed_at", "version",
    ),
    form_columns=("title", "description", "status", "priority", "due_date", "assignee", "project", "version"),
    api=Api("/api/tasks", "tasks"),
    rules=TaskRules(),
    page_size=25,
)
