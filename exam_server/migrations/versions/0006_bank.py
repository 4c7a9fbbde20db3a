"""question bank, blueprints, paper structures, assemblies, item statistics

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bank_blueprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_type_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tree', sa.Text(), nullable=False),
    sa.Column('policy', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bank_blueprints_created_by_id_users')),
    sa.ForeignKeyConstraint(['job_type_id'], ['job_types.id'], name=op.f('fk_bank_blueprints_job_type_id_job_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_blueprints')),
    sa.UniqueConstraint('job_type_id', 'level', 'version', name=op.f('uq_bank_blueprints_job_type_id_level_version'))
    )
    op.create_table('bank_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('job_type_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_type_id'], ['job_types.id'], name=op.f('fk_bank_items_job_type_id_job_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_items')),
    sa.UniqueConstraint('code', name=op.f('uq_bank_items_code'))
    )
    with op.batch_alter_table('bank_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_items_job_type_id'), ['job_type_id'], unique=False)

    op.create_table('bank_paper_specs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_type_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sections', sa.Text(), nullable=False),
    sa.Column('duration_min', sa.Integer(), nullable=False),
    sa.Column('pass_mark', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bank_paper_specs_created_by_id_users')),
    sa.ForeignKeyConstraint(['job_type_id'], ['job_types.id'], name=op.f('fk_bank_paper_specs_job_type_id_job_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_paper_specs')),
    sa.UniqueConstraint('job_type_id', 'level', 'version', name=op.f('uq_bank_paper_specs_job_type_id_level_version'))
    )
    op.create_table('bank_item_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_item_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('point_code', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('stem', sa.Text(), nullable=False),
    sa.Column('options', sa.Text(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('tolerance', sa.Float(), nullable=False),
    sa.Column('enemy_group', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('media', sa.Text(), nullable=False),
    sa.Column('difficulty', sa.Float(), nullable=False),
    sa.Column('discrimination', sa.Float(), nullable=True),
    sa.Column('observed_n', sa.Float(), nullable=False),
    sa.Column('exposure', sa.Integer(), nullable=False),
    sa.Column('last_used', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('activated_at', sa.DateTime(), nullable=True),
    sa.Column('activated_by_id', sa.Integer(), nullable=True),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('retired_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activated_by_id'], ['users.id'], name=op.f('fk_bank_item_versions_activated_by_id_users')),
    sa.ForeignKeyConstraint(['bank_item_id'], ['bank_items.id'], name=op.f('fk_bank_item_versions_bank_item_id_bank_items')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bank_item_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['retired_by_id'], ['users.id'], name=op.f('fk_bank_item_versions_retired_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_bank_item_versions_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_item_versions')),
    sa.UniqueConstraint('bank_item_id', 'version', name=op.f('uq_bank_item_versions_bank_item_id_version'))
    )
    with op.batch_alter_table('bank_item_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_item_versions_point_code'), ['point_code'], unique=False)

    op.create_table('assemblies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_session_id', sa.Integer(), nullable=False),
    sa.Column('blueprint_id', sa.Integer(), nullable=False),
    sa.Column('paper_spec_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('bank_hash', sa.String(length=64), nullable=False),
    sa.Column('solver_version', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['blueprint_id'], ['bank_blueprints.id'], name=op.f('fk_assemblies_blueprint_id_bank_blueprints')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assemblies_created_by_id_users')),
    sa.ForeignKeyConstraint(['exam_session_id'], ['exam_sessions.id'], name=op.f('fk_assemblies_exam_session_id_exam_sessions')),
    sa.ForeignKeyConstraint(['paper_spec_id'], ['bank_paper_specs.id'], name=op.f('fk_assemblies_paper_spec_id_bank_paper_specs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assemblies')),
    sa.UniqueConstraint('exam_session_id', name=op.f('uq_assemblies_exam_session_id'))
    )
    op.create_table('item_analyses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_session_id', sa.Integer(), nullable=False),
    sa.Column('n_candidates', sa.Integer(), nullable=False),
    sa.Column('n_items', sa.Integer(), nullable=False),
    sa.Column('forms_differ', sa.Boolean(), nullable=False),
    sa.Column('mean_total', sa.Float(), nullable=False),
    sa.Column('sd_total', sa.Float(), nullable=False),
    sa.Column('kr20', sa.Float(), nullable=True),
    sa.Column('sem', sa.Float(), nullable=True),
    sa.Column('pass_rate', sa.Float(), nullable=True),
    sa.Column('totals', sa.Text(), nullable=False),
    sa.Column('review_flags', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_item_analyses_created_by_id_users')),
    sa.ForeignKeyConstraint(['exam_session_id'], ['exam_sessions.id'], name=op.f('fk_item_analyses_exam_session_id_exam_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_analyses')),
    sa.UniqueConstraint('exam_session_id', name=op.f('uq_item_analyses_exam_session_id'))
    )
    op.create_table('assembled_papers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('roster_entry_id', sa.Integer(), nullable=False),
    sa.Column('paper_index', sa.Integer(), nullable=False),
    sa.Column('solver', sa.String(length=40), nullable=False),
    sa.Column('objective', sa.Float(), nullable=False),
    sa.Column('expected_score', sa.Float(), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.Column('nonce', sa.LargeBinary(), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('sealed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_assembled_papers_assembly_id_assemblies')),
    sa.ForeignKeyConstraint(['roster_entry_id'], ['roster_entries.id'], name=op.f('fk_assembled_papers_roster_entry_id_roster_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembled_papers')),
    sa.UniqueConstraint('roster_entry_id', name=op.f('uq_assembled_papers_roster_entry_id'))
    )
    with op.batch_alter_table('assembled_papers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembled_papers_assembly_id'), ['assembly_id'], unique=False)

    op.create_table('item_statistics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_analysis_id', sa.Integer(), nullable=False),
    sa.Column('bank_item_version_id', sa.Integer(), nullable=False),
    sa.Column('n_taken', sa.Integer(), nullable=False),
    sa.Column('p', sa.Float(), nullable=False),
    sa.Column('r_it', sa.Float(), nullable=True),
    sa.Column('d27', sa.Float(), nullable=True),
    sa.Column('alpha_if_deleted', sa.Float(), nullable=True),
    sa.Column('flags', sa.Text(), nullable=False),
    sa.Column('distractors', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['bank_item_version_id'], ['bank_item_versions.id'], name=op.f('fk_item_statistics_bank_item_version_id_bank_item_versions')),
    sa.ForeignKeyConstraint(['item_analysis_id'], ['item_analyses.id'], name=op.f('fk_item_statistics_item_analysis_id_item_analyses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_statistics')),
    sa.UniqueConstraint('item_analysis_id', 'bank_item_version_id', name=op.f('uq_item_statistics_item_analysis_id_bank_item_version_id'))
    )
    with op.batch_alter_table('item_statistics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_statistics_bank_item_version_id'), ['bank_item_version_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('item_statistics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_statistics_bank_item_version_id'))

    op.drop_table('item_statistics')
    with op.batch_alter_table('assembled_papers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assembled_papers_assembly_id'))

    op.drop_table('assembled_papers')
    op.drop_table('item_analyses')
    op.drop_table('assemblies')
    with op.batch_alter_table('bank_item_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_item_versions_point_code'))

    op.drop_table('bank_item_versions')
    op.drop_table('bank_paper_specs')
    with op.batch_alter_table('bank_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_items_job_type_id'))

    op.drop_table('bank_items')
    op.drop_table('bank_blueprints')
