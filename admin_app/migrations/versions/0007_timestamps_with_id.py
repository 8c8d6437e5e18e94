"""created and updated timestamps indexed with id

A bulk edit gives every row it touches the same updated_at (and set-based inserts the same
created_at): ordering a page by either, with id breaking the ties, must not sort the whole
tie. Indexed with id, the page is an index range scan. Each replaces the one-column index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_task_updated_at_id", ["updated_at", "id"], unique=False)
        batch_op.drop_index("ix_task_created_at")
        batch_op.drop_index("ix_task_updated_at")


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_updated_at", ["updated_at"], unique=False)
        batch_op.create_index("ix_task_created_at", ["created_at"], unique=False)
        batch_op.drop_index("ix_task_updated_at_id")
        batch_op.drop_index("ix_task_created_at_id")
