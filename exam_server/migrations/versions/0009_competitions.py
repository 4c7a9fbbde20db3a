"""Skills competitions: competitions, rounds, delegations, entries and members, score events, reveal steps,
board snapshots, awards

Revision ID: 0009_competitions
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_competitions'
down_revision = '0008'
branch_labels = None
depends_on = None


def _id():
    return sa.Column('id', sa.Integer(), primary_key=True)


def _fk(name, target, nullable=False, index=False):
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=nullable, index=index)


def _at(name, nullable=False):
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'competitions', _id(), sa.Column('name', sa.String(200), nullable=False),
        _fk('organisation_id', 'organisations.id', index=True), sa.Column('team', sa.Boolean(), nullable=False),
        _at('starts_at'), _at('ends_at'), sa.Column('freeze_minutes', sa.Integer(), nullable=False),
        sa.Column('tie_breaks', sa.String(200), nullable=False), _fk('chief_examiner_id', 'users.id'),
        _at('created_at'), _fk('created_by_id', 'users.id'), _at('unfrozen_at', nullable=True))
    op.create_table(
        'competition_rounds', _id(), _fk('competition_id', 'competitions.id', index=True),
        sa.Column('key', sa.String(40), nullable=False), sa.Column('name', sa.String(200), nullable=False),
        sa.Column('part', sa.String(16), nullable=False), sa.Column('weight_percent', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False), sa.Column('time_limit_minutes', sa.Integer()),
        _fk('exam_session_id', 'exam_sessions.id', nullable=True),
        sa.Column('paper_mode', sa.String(16), nullable=False),
        sa.UniqueConstraint('competition_id', 'key', name='uq_competition_rounds_competition_id_key'))
    op.create_table(
        'delegations', _id(), _fk('competition_id', 'competitions.id', index=True),
        sa.Column('name', sa.String(100), nullable=False), sa.Column('colour', sa.String(7), nullable=False),
        _fk('organisation_id', 'organisations.id', nullable=True),
        sa.UniqueConstraint('competition_id', 'name', name='uq_delegations_competition_id_name'))
    op.create_table(
        'competition_entries', _id(), _fk('competition_id', 'competitions.id', index=True),
        _fk('delegation_id', 'delegations.id', index=True), sa.Column('bib', sa.String(20), nullable=False),
        sa.Column('name', sa.String(100), nullable=False), _at('registered_at'),
        sa.UniqueConstraint('competition_id', 'bib', name='uq_competition_entries_competition_id_bib'))
    op.create_table(
        'entry_members', _id(), _fk('entry_id', 'competition_entries.id', index=True), _fk('user_id', 'users.id'),
        sa.UniqueConstraint('entry_id', 'user_id', name='uq_entry_members_entry_id_user_id'))
    op.create_table(
        'competition_score_events', _id(), _fk('competition_id', 'competitions.id', index=True),
        _fk('entry_id', 'competition_entries.id', index=True), _fk('round_id', 'competition_rounds.id'),
        sa.Column('score_milli', sa.Integer(), nullable=False),
        sa.Column('deductions_milli', sa.Integer(), nullable=False),
        sa.Column('time_used_s', sa.Integer(), nullable=False), _at('at'),
        sa.Column('source', sa.String(20), nullable=False), _at('recorded_at'))
    op.create_table(
        'competition_reveal_steps', _id(), _fk('competition_id', 'competitions.id', index=True),
        _fk('entry_id', 'competition_entries.id'), sa.Column('from_rank', sa.Integer(), nullable=False),
        sa.Column('to_rank', sa.Integer(), nullable=False), _at('revealed_at'), _fk('revealed_by_id', 'users.id'),
        sa.UniqueConstraint('competition_id', 'entry_id', name='uq_competition_reveal_steps_competition_id_entry_id'))
    op.create_table(
        'board_snapshots', _id(), _fk('competition_id', 'competitions.id', index=True),
        sa.Column('kind', sa.String(20), nullable=False), sa.Column('content', sa.Text(), nullable=False),
        _at('taken_at'))
    op.create_table(
        'competition_awards', _id(), _fk('competition_id', 'competitions.id', index=True),
        _fk('entry_id', 'competition_entries.id'), sa.Column('medal', sa.String(10), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False), sa.Column('total', sa.String(20), nullable=False),
        _at('awarded_at'), _fk('awarded_by_id', 'users.id'), sa.Column('certificate_ref', sa.String(100)),
        sa.Column('record_json', sa.Text()), sa.Column('key_id', sa.String(64)), sa.Column('signature', sa.String(200)),
        sa.UniqueConstraint('competition_id', 'entry_id', name='uq_competition_awards_competition_id_entry_id'))


def downgrade() -> None:
    for table in ('competition_awards', 'board_snapshots', 'competition_reveal_steps', 'competition_score_events',
                  'entry_members', 'competition_entries', 'delegations', 'competition_rounds', 'competitions'):
        op.drop_table(table)
