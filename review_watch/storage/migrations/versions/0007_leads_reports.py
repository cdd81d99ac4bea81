"""authors.by_name, satisfaction_states and the indexes of the leads' reports (issue 17)

An author whose key is a display name (the platform gave no id) is marked so, and matched within its source
only; existing rows are marked where the key is the display name.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("authors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("by_name", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE authors SET by_name = (key = display_name) WHERE display_name IS NOT NULL")
    op.create_table(
        "satisfaction_states",
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("average", sa.Float(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("brand", "source", name=op.f("pk_satisfaction_states")),
    )
    op.create_index("ix_mentions_brand_arrived", "mentions", ["brand_id", "arrived_at"], unique=False)
    op.create_index("ix_mentions_brand_published", "mentions", ["brand_id", "published_at"], unique=False)
    op.create_index("ix_cases_brand_answered", "cases", ["brand", "answered_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_brand_answered", table_name="cases")
    op.drop_index("ix_mentions_brand_published", table_name="mentions")
    op.drop_index("ix_mentions_brand_arrived", table_name="mentions")
    op.drop_table("satisfaction_states")
    with op.batch_alter_table("authors", schema=None) as batch_op:
        batch_op.drop_column("by_name")
