"""replies: a reply to a case's mention, from draft through approval to the platform's acceptance

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("draft_text", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("posted_text", sa.Text(), nullable=True),
        sa.Column("platform_reply_id", sa.String(length=300), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_replies_case_id_cases")),
        sa.ForeignKeyConstraint(["author_id"], ["staff.id"], name=op.f("fk_replies_author_id_staff")),
        sa.ForeignKeyConstraint(["approved_by_id"], ["staff.id"], name=op.f("fk_replies_approved_by_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replies")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_replies_idempotency_key")),
    )
    op.create_index(op.f("ix_replies_case_id"), "replies", ["case_id"], unique=False)
    op.create_index("ix_replies_due", "replies", ["state", "not_before"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_replies_due", table_name="replies")
    op.drop_index(op.f("ix_replies_case_id"), table_name="replies")
    op.drop_table("replies")
