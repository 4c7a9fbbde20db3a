"""integrity events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('integrity_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('focus_lost', 'hidden', 'paste', 'second_tab', 'address_changed', name='integritykind', native_enum=False, length=20), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_integrity_events_attempt_id_attempts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_events'))
    )
    with op.batch_alter_table('integrity_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_events_attempt_id'), ['attempt_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('integrity_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_events_attempt_id'))

    op.drop_table('integrity_events')
