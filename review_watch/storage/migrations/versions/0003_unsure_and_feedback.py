"""sentiment_results.unsure, feedback_examples and please_look_listings: judgements left to a lead, and
staff's verdicts kept as training examples

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sentiment_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unsure", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "feedback_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=10), nullable=False),
        sa.Column("model_label", sa.String(length=10), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=12), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"],
                                name=op.f("fk_feedback_examples_mention_id_mentions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_examples")),
    )
    op.create_index(op.f("ix_feedback_examples_mention_id"), "feedback_examples", ["mention_id"], unique=False)
    op.create_table(
        "please_look_listings",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"],
                                name=op.f("fk_please_look_listings_mention_id_mentions")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_please_look_listings_staff_id_staff")),
        sa.PrimaryKeyConstraint("mention_id", "staff_id", name=op.f("pk_please_look_listings")),
    )
    op.create_index(op.f("ix_please_look_listings_staff_id"), "please_look_listings", ["staff_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_please_look_listings_staff_id"), table_name="please_look_listings")
    op.drop_table("please_look_listings")
    op.drop_index(op.f("ix_feedback_examples_mention_id"), table_name="feedback_examples")
    op.drop_table("feedback_examples")
    with op.batch_alter_table("sentiment_results", schema=None) as batch_op:
        batch_op.drop_column("unsure")
