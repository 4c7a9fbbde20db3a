"""Hub and station nodes: station nodes, session packages, result bundles (hub); trusted hubs and received
packages (node); assemblies may come from a hub package (no blueprint on the node)

Revision ID: 0011_transfer
Revises: 0010_affairs
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_transfer'
down_revision = '0010_affairs'
branch_labels = None
depends_on = None


def _id():
    return sa.Column('id', sa.Integer(), primary_key=True)


def _fk(name, target, nullable=False, index=False):
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=nullable, index=index)


def upgrade() -> None:
    op.create_table(
        'station_nodes', _id(), _fk('organisation_id', 'organisations.id', index=True),
        sa.Column('key_id', sa.String(length=16), nullable=False, unique=True),
        sa.Column('public_key', sa.String(length=64), nullable=False),
        sa.Column('registered_at', sa.DateTime(), nullable=False), _fk('registered_by_id', 'users.id'),
        sa.Column('revoked_at', sa.DateTime(), nullable=True))
    op.create_table(
        'session_packages', _id(), _fk('exam_session_id', 'exam_sessions.id', index=True),
        _fk('node_id', 'station_nodes.id', index=True), sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False), sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('code_nonce', sa.LargeBinary(), nullable=False),
        sa.Column('code_sealed', sa.LargeBinary(), nullable=False),
        sa.Column('built_at', sa.DateTime(), nullable=False), _fk('built_by_id', 'users.id'),
        sa.Column('released_at', sa.DateTime(), nullable=True), _fk('released_by_id', 'users.id', nullable=True),
        sa.Column('release_channel', sa.String(length=16), nullable=False),
        sa.UniqueConstraint('exam_session_id', 'version'))
    op.create_table(
        'result_bundles', _id(), sa.Column('sha256', sa.String(length=64), nullable=False, unique=True),
        _fk('node_id', 'station_nodes.id', index=True), _fk('exam_session_id', 'exam_sessions.id', index=True),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('imported_at', sa.DateTime(), nullable=True),
        sa.Column('conflicts', sa.Text(), nullable=False), sa.Column('regrade', sa.Text(), nullable=False))
    op.create_table(
        'trusted_hubs', _id(), sa.Column('key_id', sa.String(length=16), nullable=False, unique=True),
        sa.Column('public_key', sa.String(length=64), nullable=False),
        sa.Column('station_code', sa.String(length=32), nullable=False),
        sa.Column('hub_url', sa.String(length=300), nullable=False),
        sa.Column('registered_at', sa.DateTime(), nullable=False))
    op.create_table(
        'received_packages', _id(), sa.Column('session_ref', sa.String(length=100), nullable=False, index=True),
        sa.Column('version', sa.Integer(), nullable=False), sa.Column('not_before', sa.DateTime(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False), sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('unlocked_at', sa.DateTime(), nullable=True), _fk('unlocked_by_id', 'users.id', nullable=True),
        _fk('exam_session_id', 'exam_sessions.id', nullable=True),
        sa.UniqueConstraint('session_ref', 'version'))
    with op.batch_alter_table('assemblies') as batch:
        batch.alter_column('blueprint_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('assemblies') as batch:
        batch.alter_column('blueprint_id', existing_type=sa.Integer(), nullable=False)
    for table in ('received_packages', 'trusted_hubs', 'result_bundles', 'session_packages', 'station_nodes'):
        op.drop_table(table)
