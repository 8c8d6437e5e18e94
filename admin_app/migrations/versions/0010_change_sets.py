"""change sets: what one request or command wrote, and each audit entry's change set

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('change_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('reverts_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('change_set', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_set_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_set_created_at'), ['created_at'], unique=False)
    # A plain ADD COLUMN (no foreign key, as for actor_id): no table rewrite on SQLite either.
    op.add_column('audit_entry', sa.Column('change_set_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_audit_entry_change_set_id'), 'audit_entry', ['change_set_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_entry_change_set_id'), table_name='audit_entry')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('change_set_id')
    with op.batch_alter_table('change_set', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_set_created_at'))
        batch_op.drop_index(batch_op.f('ix_change_set_actor_id'))
    op.drop_table('change_set')
