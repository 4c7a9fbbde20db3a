"""Award certificates: a number, the issuer and the revocation on each competition award, and unique indexes
for the public lookup (by number) and the QR code's verification page (by public id)

Revision ID: 0011_awards
Revises: 0010_affairs
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_awards'
down_revision = '0010_affairs'
branch_labels = None
depends_on = None

USERS_FKS = (('issued_by_id', 'fk_competition_awards_issued_by_id_users'),
             ('revoked_by_id', 'fk_competition_awards_revoked_by_id_users'))


def upgrade() -> None:
    with op.batch_alter_table('competition_awards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.String(32), nullable=True))
        batch_op.add_column(sa.Column('issued_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('issued_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_reason', sa.String(500), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_id', sa.Integer(), nullable=True))
        for column, name in USERS_FKS:
            batch_op.create_foreign_key(name, 'users', [column], ['id'])
        batch_op.create_index('ix_competition_awards_number', ['number'], unique=True)
        batch_op.create_index('ix_competition_awards_certificate_ref', ['certificate_ref'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('competition_awards', schema=None) as batch_op:
        batch_op.drop_index('ix_competition_awards_certificate_ref')
        batch_op.drop_index('ix_competition_awards_number')
        for _, name in USERS_FKS:
            batch_op.drop_constraint(name, type_='foreignkey')
        for column in ('revoked_by_id', 'revoked_reason', 'revoked_at', 'issued_by_id', 'issued_at', 'number'):
            batch_op.drop_column(column)
