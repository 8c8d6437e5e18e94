"""assignee and title indexed with id

Filtering by assignee and sorting by title end every list order with id: indexed together,
a page is an index range scan instead of a filter over the primary key or a sort of the
thousands of tasks that share a title. Each replaces the one-column index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_assignee_id_id", ["assignee_id", "id"], unique=False)
        batch_op.create_index("ix_task_title_id", ["title", "id"], unique=False)
        batch_op.drop_index("ix_task_assignee_id")
        batch_op.drop_index("ix_task_title")


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_title", ["title"], unique=False)
        batch_op.create_index("ix_task_assignee_id", ["assignee_id"], unique=False)
        batch_op.drop_index("ix_task_title_id")
        batch_op.drop_index("ix_task_assignee_id_id")
