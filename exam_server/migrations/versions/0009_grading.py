"""grading: jobs, score reports, manual marks, overrides, examiner findings, regrade runs, appeals

Revision ID: 0009_grading
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_grading'
down_revision = '0008'
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'))


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.create_index(batch.f(f'ix_{table}_{column}'), [column], unique=False)


def upgrade() -> None:
    op.create_table('score_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.String(length=100), nullable=False),
    sa.Column('sheet_version', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('inputs_digest', sa.String(length=64), nullable=False),
    sa.Column('report_json', sa.Text(), nullable=False),
    sa.Column('total', sa.Double(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.Column('graded_at', sa.DateTime(), nullable=False),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    _fk('score_reports', 'attempt_id', 'attempts'),
    _fk('score_reports', 'released_by_id', 'users'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_reports')),
    sa.UniqueConstraint('attempt_id', 'sheet_id', 'sheet_version',
                        name=op.f('uq_score_reports_attempt_id_sheet_id_sheet_version'))
    )
    _index('score_reports', 'attempt_id')

    op.create_table('grading_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.String(length=100), nullable=False),
    sa.Column('sheet_version', sa.Integer(), nullable=False),
    sa.Column('inputs_digest', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('queued_at', sa.DateTime(), nullable=False),
    sa.Column('leased_by', sa.String(length=100), nullable=True),
    sa.Column('leased_at', sa.DateTime(), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('failed_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('score_report_id', sa.Integer(), nullable=True),
    _fk('grading_jobs', 'attempt_id', 'attempts'),
    _fk('grading_jobs', 'score_report_id', 'score_reports'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grading_jobs')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_grading_jobs_idempotency_key'))
    )
    _index('grading_jobs', 'attempt_id', 'queued_at')

    op.create_table('manual_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('examiner_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    _fk('manual_marks', 'attempt_id', 'attempts'),
    _fk('manual_marks', 'examiner_id', 'users'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manual_marks')),
    sa.UniqueConstraint('attempt_id', 'item_id', 'examiner_id',
                        name=op.f('uq_manual_marks_attempt_id_item_id_examiner_id'))
    )
    _index('manual_marks', 'attempt_id')

    op.create_table('examiner_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('examiner_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    _fk('examiner_findings', 'attempt_id', 'attempts'),
    _fk('examiner_findings', 'examiner_id', 'users'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_examiner_findings'))
    )
    _index('examiner_findings', 'attempt_id')

    op.create_table('regrade_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_session_id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.String(length=100), nullable=False),
    sa.Column('sheet_version', sa.Integer(), nullable=False),
    sa.Column('sheet_json', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('diff_json', sa.Text(), nullable=False),
    sa.Column('previewed_at', sa.DateTime(), nullable=False),
    sa.Column('previewed_by_id', sa.Integer(), nullable=False),
    sa.Column('committed_at', sa.DateTime(), nullable=True),
    sa.Column('committed_by_id', sa.Integer(), nullable=True),
    _fk('regrade_runs', 'exam_session_id', 'exam_sessions'),
    _fk('regrade_runs', 'previewed_by_id', 'users'),
    _fk('regrade_runs', 'committed_by_id', 'users'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regrade_runs'))
    )
    _index('regrade_runs', 'exam_session_id')

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('score_report_id', sa.Integer(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('upheld', sa.Boolean(), nullable=True),
    sa.Column('decision_reason', sa.String(length=1000), nullable=False),
    _fk('appeals', 'attempt_id', 'attempts'),
    _fk('appeals', 'score_report_id', 'score_reports'),
    _fk('appeals', 'filed_by_id', 'users'),
    _fk('appeals', 'decided_by_id', 'users'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals'))
    )
    _index('appeals', 'attempt_id')

    op.create_table('appeal_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('examiner_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=False),
    _fk('appeal_reviews', 'appeal_id', 'appeals'),
    _fk('appeal_reviews', 'examiner_id', 'users'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_reviews')),
    sa.UniqueConstraint('appeal_id', 'item_id', 'examiner_id',
                        name=op.f('uq_appeal_reviews_appeal_id_item_id_examiner_id'))
    )
    _index('appeal_reviews', 'appeal_id')

    op.create_table('score_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('examiner_id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    _fk('score_overrides', 'attempt_id', 'attempts'),
    _fk('score_overrides', 'examiner_id', 'users'),
    _fk('score_overrides', 'appeal_id', 'appeals'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_overrides'))
    )
    _index('score_overrides', 'attempt_id')


def downgrade() -> None:
    for table in ('score_overrides', 'appeal_reviews', 'appeals', 'regrade_runs', 'examiner_findings', 'manual_marks',
                  'grading_jobs', 'score_reports'):
        op.drop_table(table)
