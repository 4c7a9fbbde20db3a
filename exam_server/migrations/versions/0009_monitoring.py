"""Monitoring of exam rooms: announcements, late starts, incidents, misconduct records, supervisors'
annotations and session reports

Revision ID: 0009_monitoring
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_monitoring'
down_revision = '0008'
branch_labels = None
depends_on = None


def _id():
    return sa.Column('id', sa.Integer(), primary_key=True)


def _fk(name, target, nullable=False, index=False):
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=nullable, index=index)


def upgrade() -> None:
    op.create_table(
        'announcements', _id(), _fk('exam_session_id', 'exam_sessions.id', index=True),
        _fk('attempt_id', 'attempts.id', nullable=True, index=True),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False), _fk('created_by_id', 'users.id'))
    op.create_table(
        'late_starts', _id(), sa.Column('roster_entry_id', sa.Integer(), sa.ForeignKey('roster_entries.id'),
                                        nullable=False, unique=True),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('authorised_at', sa.DateTime(), nullable=False), _fk('authorised_by_id', 'users.id'))
    op.create_table(
        'incidents', _id(), _fk('exam_session_id', 'exam_sessions.id', index=True),
        _fk('attempt_id', 'attempts.id', nullable=True),
        sa.Column('category', sa.String(length=16), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False), _fk('created_by_id', 'users.id'))
    op.create_table(
        'misconduct_records', _id(), _fk('exam_session_id', 'exam_sessions.id', index=True),
        _fk('attempt_id', 'attempts.id', index=True),
        sa.Column('tier', sa.String(length=24), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('evidence', sa.Text(), nullable=False),
        sa.Column('theory_points_deducted', sa.Integer(), nullable=False),
        sa.Column('practical_percent_deducted', sa.Integer(), nullable=False),
        sa.Column('voids_subject', sa.Boolean(), nullable=False),
        sa.Column('voids_all', sa.Boolean(), nullable=False),
        sa.Column('barred_year', sa.Integer(), nullable=True),
        sa.Column('candidate_statement', sa.Text(), nullable=False),
        sa.Column('statement_at', sa.DateTime(), nullable=True),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False), _fk('created_by_id', 'users.id'),
        sa.Column('examiner_signed_at', sa.DateTime(), nullable=True),
        _fk('examiner_signed_by_id', 'users.id', nullable=True),
        sa.Column('supervisor_signed_at', sa.DateTime(), nullable=True),
        _fk('supervisor_signed_by_id', 'users.id', nullable=True))
    op.create_table(
        'supervisor_annotations', _id(), _fk('exam_session_id', 'exam_sessions.id', index=True),
        _fk('attempt_id', 'attempts.id', nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False), _fk('created_by_id', 'users.id'))
    op.create_table(
        'session_reports', _id(), sa.Column('exam_session_id', sa.Integer(), sa.ForeignKey('exam_sessions.id'),
                                            nullable=False, unique=True),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('generated_at', sa.DateTime(), nullable=False), _fk('generated_by_id', 'users.id'),
        sa.Column('chief_signed_at', sa.DateTime(), nullable=True), _fk('chief_signed_by_id', 'users.id', nullable=True),
        sa.Column('supervisor_signed_at', sa.DateTime(), nullable=True),
        _fk('supervisor_signed_by_id', 'users.id', nullable=True))


def downgrade() -> None:
    for table in ('session_reports', 'supervisor_annotations', 'misconduct_records', 'incidents', 'late_starts',
                  'announcements'):
        op.drop_table(table)
