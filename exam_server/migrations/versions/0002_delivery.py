"""delivery: exams, sessions, rosters, attempts, time ledger, responses, saves

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('job_type_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_type_id'], ['job_types.id'], name=op.f('fk_exams_job_type_id_job_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exams')),
    sa.UniqueConstraint('code', name=op.f('uq_exams_code'))
    )
    op.create_table('exam_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Enum('theory', 'practical', name='exampart', native_enum=False, length=16), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('room', sa.String(length=100), nullable=False),
    sa.Column('scheduled_start_at', sa.DateTime(), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=False),
    sa.Column('check_in_opened_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_exam_sessions_exam_id_exams')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_exam_sessions_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_sessions'))
    )
    with op.batch_alter_table('exam_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_sessions_exam_id'), ['exam_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_sessions_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('roster_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_session_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('seat', sa.String(length=16), nullable=False),
    sa.Column('ticket_number', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['users.id'], name=op.f('fk_roster_entries_candidate_id_users')),
    sa.ForeignKeyConstraint(['exam_session_id'], ['exam_sessions.id'], name=op.f('fk_roster_entries_exam_session_id_exam_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_entries')),
    sa.UniqueConstraint('exam_session_id', 'candidate_id', name=op.f('uq_roster_entries_exam_session_id_candidate_id')),
    sa.UniqueConstraint('exam_session_id', 'seat', name=op.f('uq_roster_entries_exam_session_id_seat')),
    sa.UniqueConstraint('ticket_number', name=op.f('uq_roster_entries_ticket_number'))
    )
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_entries_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('roster_entry_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('submit_kind', sa.Enum('submitted', 'force_submitted', 'expired', name='submitkind', native_enum=False, length=16), nullable=True),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('receipt_hash', sa.String(length=64), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['roster_entry_id'], ['roster_entries.id'], name=op.f('fk_attempts_roster_entry_id_roster_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempts')),
    sa.UniqueConstraint('roster_entry_id', name=op.f('uq_attempts_roster_entry_id'))
    )
    op.create_table('pauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_session_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('paused_at', sa.DateTime(), nullable=False),
    sa.Column('resumed_at', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('paused_by_id', sa.Integer(), nullable=True),
    sa.Column('resumed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_pauses_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['exam_session_id'], ['exam_sessions.id'], name=op.f('fk_pauses_exam_session_id_exam_sessions')),
    sa.ForeignKeyConstraint(['paused_by_id'], ['users.id'], name=op.f('fk_pauses_paused_by_id_users')),
    sa.ForeignKeyConstraint(['resumed_by_id'], ['users.id'], name=op.f('fk_pauses_resumed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pauses'))
    )
    with op.batch_alter_table('pauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pauses_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pauses_exam_session_id'), ['exam_session_id'], unique=False)

    op.create_table('responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('saved_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_responses_attempt_id_attempts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses')),
    sa.UniqueConstraint('attempt_id', 'item_id', name=op.f('uq_responses_attempt_id_item_id'))
    )
    op.create_table('save_operations',
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_save_operations_attempt_id_attempts')),
    sa.PrimaryKeyConstraint('op_id', name=op.f('pk_save_operations'))
    )
    with op.batch_alter_table('save_operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_save_operations_attempt_id'), ['attempt_id'], unique=False)

    op.create_table('time_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('accommodation', 'incident', name='adjustmentkind', native_enum=False, length=16), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('reverted_at', sa.DateTime(), nullable=True),
    sa.Column('reverted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_time_adjustments_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_time_adjustments_created_by_id_users')),
    sa.ForeignKeyConstraint(['reverted_by_id'], ['users.id'], name=op.f('fk_time_adjustments_reverted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_adjustments'))
    )
    with op.batch_alter_table('time_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_adjustments_attempt_id'), ['attempt_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('time_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_adjustments_attempt_id'))

    op.drop_table('time_adjustments')
    with op.batch_alter_table('save_operations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_save_operations_attempt_id'))

    op.drop_table('save_operations')
    op.drop_table('responses')
    with op.batch_alter_table('pauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pauses_exam_session_id'))
        batch_op.drop_index(batch_op.f('ix_pauses_attempt_id'))

    op.drop_table('pauses')
    op.drop_table('attempts')
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_entries_candidate_id'))

    op.drop_table('roster_entries')
    with op.batch_alter_table('exam_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_sessions_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_exam_sessions_exam_id'))

    op.drop_table('exam_sessions')
    op.drop_table('exams')
