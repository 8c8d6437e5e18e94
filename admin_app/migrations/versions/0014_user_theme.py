"""user preferences: the admin's theme (light, dark, or the browser's)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('theme', sa.String(length=8), server_default='system', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('user') as batch:
        batch.drop_column('theme')
