"""projects: a table of its own, and a task's optional project

Deleting a project leaves its tasks, without a project (ON DELETE SET NULL). Every sort and
filter column is indexed with id, as for tasks; the code is unique.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index("ix_project_code", ["code"], unique=True)
        batch_op.create_index("ix_project_name_id", ["name", "id"], unique=False)
        batch_op.create_index("ix_project_archived_id", ["archived", "id"], unique=False)
        batch_op.create_index("ix_project_owner_id_id", ["owner_id", "id"], unique=False)
        batch_op.create_index("ix_project_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_project_updated_at_id", ["updated_at", "id"], unique=False)

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_task_project_id_id", ["project_id", "id"], unique=False)
        batch_op.create_foreign_key(
            "fk_task_project_id_project", "project", ["project_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_constraint("fk_task_project_id_project", type_="foreignkey")
        batch_op.drop_index("ix_task_project_id_id")
        batch_op.drop_column("project_id")
    op.drop_table("project")
