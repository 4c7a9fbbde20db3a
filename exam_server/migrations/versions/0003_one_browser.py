"""one browser per attempt

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('takeover_client_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('takeover_requested_at', sa.DateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_column('takeover_requested_at')
        batch_op.drop_column('takeover_client_id')
        batch_op.drop_column('client_id')

