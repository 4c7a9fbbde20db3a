"""Scheduling: staff qualifications and their scopes, rooms, session schedules (seat-draw seeds), ticket checks

Revision ID: 0011_scheduling
Revises: 0010_affairs
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_scheduling'
down_revision = '0010_affairs'
branch_labels = None
depends_on = None


def _id():
    return sa.Column('id', sa.Integer(), primary_key=True)


def _fk(name, target, nullable=False, index=False, unique=False):
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=nullable, index=index, unique=unique)


def upgrade() -> None:
    op.create_table(
        'staff_qualifications', _id(), _fk('user_id', 'users.id', index=True),
        sa.Column('number', sa.String(length=32), nullable=False, unique=True),
        sa.Column('role', sa.String(length=16), nullable=False),
        _fk('home_station_id', 'organisations.id'),
        sa.Column('valid_from', sa.Date(), nullable=False), sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False), _fk('created_by_id', 'users.id'),
        sa.Column('expired_at', sa.DateTime(), nullable=True), _fk('expired_by_id', 'users.id', nullable=True),
        sa.Column('expiry_reason', sa.String(length=300), nullable=False))
    op.create_table(
        'qualification_scopes', _id(), _fk('qualification_id', 'staff_qualifications.id', index=True),
        _fk('job_type_id', 'job_types.id'), sa.Column('highest_level', sa.Integer(), nullable=False),
        sa.UniqueConstraint('qualification_id', 'job_type_id'))
    op.create_table(
        'rooms', _id(), _fk('station_id', 'organisations.id', index=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('machine', sa.String(length=16), nullable=False), sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False), _fk('created_by_id', 'users.id'),
        sa.Column('retired_at', sa.DateTime(), nullable=True),
        sa.UniqueConstraint('station_id', 'name'))
    op.create_table(
        'session_schedules', _id(), _fk('exam_session_id', 'exam_sessions.id', unique=True),
        _fk('plan_id', 'exam_plans.id', index=True), _fk('room_id', 'rooms.id', index=True),
        sa.Column('seed', sa.String(length=64), nullable=False),
        sa.Column('drawn_at', sa.DateTime(), nullable=False), _fk('drawn_by_id', 'users.id'))
    op.create_table(
        'ticket_checks', _id(), _fk('roster_entry_id', 'roster_entries.id', index=True),
        _fk('examiner_id', 'users.id'), sa.Column('scanned', sa.Boolean(), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False))


def downgrade() -> None:
    for table in ('ticket_checks', 'session_schedules', 'rooms', 'qualification_scopes', 'staff_qualifications'):
        op.drop_table(table)
