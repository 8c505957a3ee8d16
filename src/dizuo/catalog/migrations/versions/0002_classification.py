"""classification: column verdicts, dataset grades, operators' overrides

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "classification_overrides",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "dataset_id",
            sa.Uuid,
            sa.ForeignKey("datasets.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("column", sa.String(300), nullable=False),
        sa.Column("entity", sa.String(64)),
        sa.Column("pi", sa.Boolean),
        sa.Column("sensitive", sa.Boolean),
        sa.Column("grade", sa.String(16)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "column_classifications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "version_id",
            sa.Uuid,
            sa.ForeignKey("versions.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("column", sa.String(300), nullable=False),
        sa.Column("entity", sa.String(64)),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("match_rate", sa.Float, nullable=False),
        sa.Column("free_text", sa.Boolean, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("pi", sa.Boolean, nullable=False),
        sa.Column("sensitive", sa.Boolean, nullable=False),
        sa.Column("category", sa.String(64)),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column(
            "override_id",
            sa.Uuid,
            sa.ForeignKey("classification_overrides.id", ondelete="SET NULL"),
        ),
        sa.UniqueConstraint("version_id", "column"),
    )
    op.create_table(
        "dataset_classifications",
        sa.Column(
            "version_id",
            sa.Uuid,
            sa.ForeignKey("versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("grade_reasons", sa.JSON, nullable=False),
        sa.Column("health_data", sa.Boolean, nullable=False),
        sa.Column("whereabouts", sa.Boolean, nullable=False),
        sa.Column("minors", sa.Boolean, nullable=False),
        sa.Column("minors_share", sa.Float),
        sa.Column("sampled_rows", sa.BigInteger),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    for table in ("dataset_classifications", "column_classifications", "classification_overrides"):
        op.drop_table(table)
