"""Exam affairs: plans, their stations, registrations, session staff; joins the four 0009 branches

Revision ID: 0010_affairs
Revises: 0009_certificates, 0009_competitions, 0009_grading, 0009_monitoring
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_affairs'
down_revision = ('0009_certificates', '0009_competitions', '0009_grading', '0009_monitoring')
branch_labels = None
depends_on = None


def _id():
    return sa.Column('id', sa.Integer(), primary_key=True)


def _fk(name, target, nullable=False, index=False):
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=nullable, index=index)


def upgrade() -> None:
    op.create_table(
        'exam_plans', _id(), sa.Column('code', sa.String(length=32), nullable=False, unique=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        _fk('organisation_id', 'organisations.id', index=True), _fk('job_type_id', 'job_types.id'),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('registration_opens_on', sa.Date(), nullable=False),
        sa.Column('registration_closes_on', sa.Date(), nullable=False),
        sa.Column('exam_from', sa.Date(), nullable=False), sa.Column('exam_to', sa.Date(), nullable=False),
        sa.Column('theory_fee_fen', sa.Integer(), nullable=False),
        sa.Column('practical_fee_fen', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False), _fk('created_by_id', 'users.id'),
        sa.Column('published_at', sa.DateTime(), nullable=True))
    op.create_table(
        'plan_stations', _id(), _fk('plan_id', 'exam_plans.id', index=True), _fk('station_id', 'organisations.id'),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.UniqueConstraint('plan_id', 'station_id'))
    op.create_table(
        'registrations', _id(), _fk('plan_id', 'exam_plans.id', index=True),
        _fk('station_id', 'organisations.id', index=True),
        sa.Column('id_type', sa.String(length=16), nullable=False),
        sa.Column('id_number', sa.String(length=32), nullable=False, index=True),
        sa.Column('name', sa.String(length=100), nullable=False), sa.Column('sex', sa.String(length=1), nullable=False),
        sa.Column('education', sa.String(length=32), nullable=False),
        sa.Column('eligibility_basis', sa.String(length=300), nullable=False),
        sa.Column('employer', sa.String(length=200), nullable=False),
        sa.Column('previous_certificate_number', sa.String(length=32), nullable=False),
        sa.Column('photo', sa.LargeBinary(), nullable=True), sa.Column('photo_type', sa.String(length=32), nullable=True),
        sa.Column('sits_theory', sa.Boolean(), nullable=False), sa.Column('sits_practical', sa.Boolean(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=False), _fk('submitted_by_id', 'users.id'),
        sa.Column('reviewed_at', sa.DateTime(), nullable=True), _fk('reviewed_by_id', 'users.id', nullable=True),
        sa.Column('approved', sa.Boolean(), nullable=True),
        sa.Column('review_reason', sa.String(length=300), nullable=False),
        sa.Column('fee_paid_at', sa.DateTime(), nullable=True),
        _fk('candidate_id', 'users.id', nullable=True, index=True),
        sa.UniqueConstraint('plan_id', 'id_type', 'id_number'))
    op.create_table(
        'session_staff', _id(), _fk('exam_session_id', 'exam_sessions.id', index=True),
        _fk('user_id', 'users.id', index=True), sa.Column('duty', sa.String(length=16), nullable=False),
        sa.Column('assigned_at', sa.DateTime(), nullable=False), _fk('assigned_by_id', 'users.id'),
        sa.UniqueConstraint('exam_session_id', 'user_id'))


def downgrade() -> None:
    for table in ('session_staff', 'registrations', 'plan_stations', 'exam_plans'):
        op.drop_table(table)
