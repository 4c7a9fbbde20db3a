"""Candidates' registration photos; the Safe Exam Browser config key of an exam

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('photo', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('photo_type', sa.String(length=32), nullable=True))
    with op.batch_alter_table('exams') as batch:
        batch.add_column(sa.Column('seb_config_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('exams') as batch:
        batch.drop_column('seb_config_key')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('photo_type')
        batch.drop_column('photo')
