"""list preferences: each user's columns of each admin list

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'list_preference',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('list_name', sa.String(length=64), nullable=False),
        sa.Column('columns', sa.String(length=1000), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'list_name', name='uq_list_preference_user_list'),
    )
    op.create_index('ix_list_preference_user_id', 'list_preference', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_list_preference_user_id', table_name='list_preference')
    op.drop_table('list_preference')
