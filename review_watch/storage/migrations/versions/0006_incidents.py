"""incidents: crisis detection's incidents, each case's incident, the leads' incident cards, the usual rates

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("usual_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("count_at_open", sa.Integer(), nullable=False),
        sa.Column("usual_at_open", sa.Float(), nullable=False),
        sa.Column("window_seconds", sa.Float(), nullable=False),
        sa.Column("peak_count", sa.Integer(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("individual_cards", sa.Boolean(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holding_reply_by", sa.String(length=200), nullable=True),
        sa.Column("holding_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("uq_incidents_open_brand", "incidents", ["brand"], unique=True,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    op.create_table(
        "incident_cards",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_incident_cards_incident_id_incidents")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_incident_cards_staff_id_staff")),
        sa.PrimaryKeyConstraint("incident_id", "staff_id", name=op.f("pk_incident_cards")),
    )
    op.create_table(
        "crisis_baselines",
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("raw_rate", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("through", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("brand", "source", name=op.f("pk_crisis_baselines")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("alert_withheld", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_cases_incident_id", ["incident_id"], unique=False)
        batch_op.create_foreign_key("fk_cases_incident_id_incidents", "incidents", ["incident_id"], ["id"])
    op.create_index("ix_mentions_arrived_at", "mentions", ["arrived_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mentions_arrived_at", table_name="mentions")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint("fk_cases_incident_id_incidents", type_="foreignkey")
        batch_op.drop_index("ix_cases_incident_id")
        batch_op.drop_column("alert_withheld")
        batch_op.drop_column("incident_id")
    op.drop_table("crisis_baselines")
    op.drop_table("incident_cards")
    op.drop_index("uq_incidents_open_brand", table_name="incidents")
    op.drop_table("incidents")
