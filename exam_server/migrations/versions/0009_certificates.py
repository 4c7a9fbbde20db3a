"""Results and certificates: part scores, results, certificates (issued and legacy), serials, signing keys,
legacy imports

Revision ID: 0009_certificates
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_certificates'
down_revision = '0008'
branch_labels = None
depends_on = None


def _id():
    return sa.Column('id', sa.Integer(), nullable=False)


def _fk(table, column, target):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'))


def _pk(table, column='id'):
    return sa.PrimaryKeyConstraint(column, name=op.f(f'pk_{table}'))


def upgrade() -> None:
    op.create_table(
        'part_scores', _id(),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('job_type_level_id', sa.Integer(), nullable=False),
        sa.Column('part', sa.String(length=16), nullable=False),
        sa.Column('score_tenths', sa.Integer(), nullable=False),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('valid_until', sa.DateTime(), nullable=True),
        _fk('part_scores', 'candidate_id', 'users'), _fk('part_scores', 'job_type_level_id', 'job_type_levels'),
        _pk('part_scores'))
    op.create_index('ix_part_scores_candidate_level', 'part_scores', ['candidate_id', 'job_type_level_id', 'part'])
    op.create_table(
        'results', _id(),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('job_type_level_id', sa.Integer(), nullable=False),
        sa.Column('theory_score_id', sa.Integer(), nullable=True),
        sa.Column('practical_score_id', sa.Integer(), nullable=True),
        sa.Column('review_score_id', sa.Integer(), nullable=True),
        sa.Column('combined_at', sa.DateTime(), nullable=False),
        sa.Column('passed_at', sa.DateTime(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        _fk('results', 'candidate_id', 'users'), _fk('results', 'job_type_level_id', 'job_type_levels'),
        _fk('results', 'theory_score_id', 'part_scores'), _fk('results', 'practical_score_id', 'part_scores'),
        _fk('results', 'review_score_id', 'part_scores'), _fk('results', 'confirmed_by_id', 'users'),
        _pk('results'),
        sa.UniqueConstraint('candidate_id', 'job_type_level_id',
                            name=op.f('uq_results_candidate_id_job_type_level_id')))
    op.create_index(op.f('ix_results_candidate_id'), 'results', ['candidate_id'])
    op.create_table(
        'certificates', _id(),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('holder_name', sa.String(length=50), nullable=False),
        sa.Column('id_number', sa.String(length=18), nullable=False),
        sa.Column('occupation', sa.String(length=100), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=200), nullable=False),
        sa.Column('issued_on', sa.String(length=10), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('result_id', sa.Integer(), nullable=True),
        sa.Column('record_json', sa.Text(), nullable=True),
        sa.Column('signature', sa.String(length=100), nullable=True),
        sa.Column('key_id', sa.String(length=32), nullable=True),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('legacy', sa.Boolean(), nullable=False),
        sa.Column('legacy_source', sa.String(length=200), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_reason', sa.String(length=500), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        _fk('certificates', 'organisation_id', 'organisations'), _fk('certificates', 'result_id', 'results'),
        _fk('certificates', 'issued_by_id', 'users'), _fk('certificates', 'revoked_by_id', 'users'),
        _pk('certificates'),
        sa.UniqueConstraint('number', name=op.f('uq_certificates_number')),
        sa.UniqueConstraint('public_id', name=op.f('uq_certificates_public_id')),
        sa.UniqueConstraint('result_id', name=op.f('uq_certificates_result_id')))
    op.create_index(op.f('ix_certificates_id_number'), 'certificates', ['id_number'])
    op.create_index(op.f('ix_certificates_organisation_id'), 'certificates', ['organisation_id'])
    op.create_table(
        'certificate_serials',
        sa.Column('prefix', sa.String(length=32), nullable=False),
        sa.Column('last_serial', sa.Integer(), nullable=False),
        _pk('certificate_serials', 'prefix'))
    op.create_table(
        'signing_keys',
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('algorithm', sa.String(length=16), nullable=False),
        sa.Column('public_key', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('retired_at', sa.DateTime(), nullable=True),
        _pk('signing_keys', 'key_id'))
    op.create_table(
        'certificate_imports', _id(),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('imported', sa.Integer(), nullable=False),
        sa.Column('duplicates', sa.Integer(), nullable=False),
        sa.Column('report_json', sa.Text(), nullable=False),
        sa.Column('imported_at', sa.DateTime(), nullable=False),
        sa.Column('imported_by_id', sa.Integer(), nullable=True),
        _fk('certificate_imports', 'imported_by_id', 'users'), _pk('certificate_imports'))


def downgrade() -> None:
    for table in ('certificate_imports', 'signing_keys', 'certificate_serials', 'certificates', 'results',
                  'part_scores'):
        op.drop_table(table)
