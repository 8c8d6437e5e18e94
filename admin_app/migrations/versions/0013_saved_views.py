"""saved views: a named search, filters, sort, page size and columns of an admin list

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'saved_view',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('resource', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.Column('query', sa.String(length=2000), nullable=False),
        sa.Column('columns', sa.String(length=1000), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('owner_id', 'resource', 'name', name='uq_saved_view_owner_resource_name'),
    )
    op.create_index('ix_saved_view_owner_id', 'saved_view', ['owner_id'])
    op.create_index('ix_saved_view_resource_shared', 'saved_view', ['resource', 'shared'])
    op.create_index(
        'uq_saved_view_shared_name', 'saved_view', ['resource', 'name'], unique=True,
        sqlite_where=sa.text('shared'), postgresql_where=sa.text('shared'),
    )


def downgrade() -> None:
    op.drop_index('uq_saved_view_shared_name', table_name='saved_view')
    op.drop_index('ix_saved_view_resource_shared', table_name='saved_view')
    op.drop_index('ix_saved_view_owner_id', table_name='saved_view')
    op.drop_table('saved_view')
