"""practical exam: task bank, session task pools, assignments, operation trace

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('practical_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('job_type_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('machine_type', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('task_json', sa.Text(), nullable=False),
    sa.Column('drawing_svg', sa.Text(), nullable=False),
    sa.Column('check_ok', sa.Boolean(), nullable=True),
    sa.Column('check_report', sa.Text(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('activated_at', sa.DateTime(), nullable=True),
    sa.Column('activated_by_id', sa.Integer(), nullable=True),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('retired_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activated_by_id'], ['users.id'], name=op.f('fk_practical_tasks_activated_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_practical_tasks_created_by_id_users')),
    sa.ForeignKeyConstraint(['job_type_id'], ['job_types.id'], name=op.f('fk_practical_tasks_job_type_id_job_types')),
    sa.ForeignKeyConstraint(['retired_by_id'], ['users.id'], name=op.f('fk_practical_tasks_retired_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_practical_tasks_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practical_tasks')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_practical_tasks_code_version'))
    )
    with op.batch_alter_table('practical_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practical_tasks_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_practical_tasks_job_type_id'), ['job_type_id'], unique=False)

    op.create_table('practical_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_session_id', sa.Integer(), nullable=False),
    sa.Column('draw_seed', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_practical_parts_created_by_id_users')),
    sa.ForeignKeyConstraint(['exam_session_id'], ['exam_sessions.id'], name=op.f('fk_practical_parts_exam_session_id_exam_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practical_parts')),
    sa.UniqueConstraint('exam_session_id', name=op.f('uq_practical_parts_exam_session_id'))
    )
    op.create_table('practical_part_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('part_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['part_id'], ['practical_parts.id'], name=op.f('fk_practical_part_tasks_part_id_practical_parts')),
    sa.ForeignKeyConstraint(['task_id'], ['practical_tasks.id'], name=op.f('fk_practical_part_tasks_task_id_practical_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practical_part_tasks')),
    sa.UniqueConstraint('part_id', 'task_id', name=op.f('uq_practical_part_tasks_part_id_task_id'))
    )
    with op.batch_alter_table('practical_part_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practical_part_tasks_part_id'), ['part_id'], unique=False)

    op.create_table('practical_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('pool', sa.Text(), nullable=False),
    sa.Column('draw_seed', sa.String(length=100), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_practical_assignments_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['task_id'], ['practical_tasks.id'], name=op.f('fk_practical_assignments_task_id_practical_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practical_assignments')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_practical_assignments_attempt_id'))
    )
    with op.batch_alter_table('practical_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practical_assignments_task_id'), ['task_id'], unique=False)

    op.create_table('trace_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('op_id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('t_client', sa.BigInteger(), nullable=False),
    sa.Column('t_server', sa.BigInteger(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_trace_events_attempt_id_attempts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_events')),
    sa.UniqueConstraint('attempt_id', 'seq', name=op.f('uq_trace_events_attempt_id_seq')),
    sa.UniqueConstraint('op_id', name=op.f('uq_trace_events_op_id'))
    )
    _append_only("trace_events")


def _append_only(table: str) -> None:
    """The trace is evidence: the database itself refuses to change or delete a row."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    else:
        op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$")
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER trace_events_no_update")
        op.execute("DROP TRIGGER trace_events_no_delete")
    else:
        op.execute("DROP TRIGGER trace_events_append_only ON trace_events")
        op.execute("DROP FUNCTION trace_events_append_only()")
    op.drop_table('trace_events')
    with op.batch_alter_table('practical_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practical_assignments_task_id'))

    op.drop_table('practical_assignments')
    with op.batch_alter_table('practical_part_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practical_part_tasks_part_id'))

    op.drop_table('practical_part_tasks')
    op.drop_table('practical_parts')
    with op.batch_alter_table('practical_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practical_tasks_job_type_id'))
        batch_op.drop_index(batch_op.f('ix_practical_tasks_code'))

    op.drop_table('practical_tasks')
