"""indexes for keyset pages

Status, priority and due date have many ties; indexed together with id (the tiebreaker of
every list order) a page sorted by one of them is an index range scan however deep. Each
replaces the one-column index, which it serves as well (a leading-column prefix).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_due_date_id', ['due_date', 'id'], unique=False)
        batch_op.create_index('ix_task_priority_id', ['priority', 'id'], unique=False)
        batch_op.create_index('ix_task_status_id', ['status', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_task_due_date'))
        batch_op.drop_index(batch_op.f('ix_task_priority'))
        batch_op.drop_index(batch_op.f('ix_task_status'))


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_priority'), ['priority'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_due_date'), ['due_date'], unique=False)
        batch_op.drop_index('ix_task_status_id')
        batch_op.drop_index('ix_task_priority_id')
        batch_op.drop_index('ix_task_due_date_id')
