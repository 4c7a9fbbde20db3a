"""Quality management: red/black lists with their entries, responsibility agreements

Revision ID: 0011_quality
Revises: 0010_affairs
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_quality'
down_revision = '0010_affairs'
branch_labels = None
depends_on = None


def _id():
    return sa.Column('id', sa.Integer(), primary_key=True)


def _fk(name, target, nullable=False, index=False):
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=nullable, index=index)


def upgrade() -> None:
    op.create_table(
        'quality_lists', _id(), _fk('organisation_id', 'organisations.id', index=True),
        sa.Column('period_start', sa.Date(), nullable=False), sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('period_label', sa.String(length=32), nullable=False),
        sa.Column('rules_json', sa.Text(), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False), _fk('computed_by_id', 'users.id'),
        sa.Column('published_at', sa.DateTime(), nullable=True), _fk('published_by_id', 'users.id', nullable=True),
        sa.UniqueConstraint('organisation_id', 'period_start', 'period_end'))
    op.create_table(
        'quality_list_entries', _id(), _fk('quality_list_id', 'quality_lists.id', index=True),
        _fk('station_id', 'organisations.id'), sa.Column('colour', sa.String(length=8), nullable=False),
        sa.Column('rules', sa.Text(), nullable=False), sa.Column('indicators', sa.Text(), nullable=False),
        sa.Column('evidence', sa.Text(), nullable=False),
        sa.UniqueConstraint('quality_list_id', 'station_id'))
    op.create_table(
        'responsibility_agreements', _id(), _fk('station_id', 'organisations.id', index=True),
        sa.Column('period_start', sa.Date(), nullable=False), sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('signer_name', sa.String(length=100), nullable=False),
        sa.Column('signer_title', sa.String(length=100), nullable=False),
        sa.Column('signed_on', sa.Date(), nullable=False),
        sa.Column('file_name', sa.String(length=200), nullable=True),
        sa.Column('file_type', sa.String(length=64), nullable=True),
        sa.Column('file_data', sa.LargeBinary(), nullable=True),
        sa.Column('file_sha256', sa.String(length=64), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False), _fk('recorded_by_id', 'users.id'),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True), _fk('withdrawn_by_id', 'users.id', nullable=True))


def downgrade() -> None:
    for table in ('responsibility_agreements', 'quality_list_entries', 'quality_lists'):
        op.drop_table(table)
