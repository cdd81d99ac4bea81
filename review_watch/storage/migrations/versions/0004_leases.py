"""leases: a row per lease (the bot's sending and scheduling), held by one process until it lapses;
source_runs.job: the Scrapyd job that crawled the source

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=300), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("source_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job", sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f("ix_source_runs_job"), ["job"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("source_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_runs_job"))
        batch_op.drop_column("job")
    op.drop_table("leases")
