"""Projects: tasks grouped under a short code. Deleting one leaves its tasks, without a project."""

from __future__ import annotations

from admin_app.resources.spec import (
    Api,
    Boolean,
    DateRange,
    DeleteRows,
    Field,
    Lookup,
    Relation,
    Resource,
    Schemas,
    SetField,
)
from models import Project, ProjectCreate, ProjectPublic, ProjectReplace, ProjectUpdate, User

PROJECTS = Resource(
    Project, "project", "Project", "Projects", icon="fa-solid fa-folder-tree",
    schemas=Schemas(ProjectCreate, ProjectUpdate, ProjectPublic, replace=ProjectReplace),
    fields=(
        Field("id", "ID"),
        Field("code", "Code"),
        Field("name", "Name"),
        Field("description", "Description"),
        Relation("owner", "Owner", "owner_id", User, "email", ("email", "full_name"), "lose their owner"),
        Field("archived", "Archived", choices={False: "No", True: "Yes"}),
        Field("created_at", "Created at"),
        Field("updated_at", "Updated at"),
        Field("version", "Version"),
    ),
    list_columns=("id", "code", "name", "owner", "archived", "updated_at"),
    sortable=("id", "code", "name", "owner", "created_at", "updated_at"),
    default_sort="code",
    searchable=("code", "name", "description"),
    filters=(Boolean("archived"), Lookup("owner"), DateRange("created_at", "created")),
    list_editable=("name", "owner", "archived"),
    actions=(
        SetField("archive", "Archive", "archived", True, done="archived", unchanged="already archived"),
        SetField("unarchive", "Unarchive", "archived", False, done="unarchived", unchanged="not archived"),
        SetField("set-owner", "Set owner", "owner", done="given to {value}", unchanged="already theirs"),
        DeleteRows("delete-projects"),
    ),
    import_columns=("code", "name", "description", "owner", "archived"),
    import_key="code",
    export_columns=("id", "code", "name", "description", "owner", "archived", "created_at", "updated_at"),
    api=Api("/api/projects", "projects"),
)
