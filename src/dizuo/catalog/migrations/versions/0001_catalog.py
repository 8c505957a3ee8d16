"""catalog: organisations, datasets, versions, fields, lineage

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.String(128), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("org_id", sa.Uuid, sa.ForeignKey("organisations.id", ondelete="RESTRICT")),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("format", sa.String(64), nullable=False),
        sa.Column("update_cycle", sa.String(32), nullable=False),
        sa.Column("share_type", sa.String(16), nullable=False),
        sa.Column("share_condition", sa.Text, nullable=False),
        sa.Column("open_type", sa.String(16), nullable=False),
        sa.Column("published_on", sa.Date),
        sa.Column("keywords", sa.JSON, nullable=False),
        sa.Column("zone", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "dataset_id",
            sa.Uuid,
            sa.ForeignKey("datasets.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("schema", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_fingerprint", sa.String(80), nullable=False),
        sa.Column("table_ident", sa.String(200), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger, nullable=False),
        sa.Column("drift", sa.JSON, nullable=False),
        sa.Column("expired", sa.Boolean, nullable=False),
        sa.UniqueConstraint("dataset_id", "number"),
    )
    op.create_table(
        "fields",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "version_id",
            sa.Uuid,
            sa.ForeignKey("versions.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("nullable", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.UniqueConstraint("version_id", "position"),
    )
    op.create_table(
        "lineage_edges",
        sa.Column(
            "child_id",
            sa.Uuid,
            sa.ForeignKey("versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "parent_id",
            sa.Uuid,
            sa.ForeignKey("versions.id", ondelete="RESTRICT"),
            primary_key=True,
            index=True,
        ),
    )


def downgrade() -> None:
    for table in ("lineage_edges", "fields", "versions", "datasets", "organisations"):
        op.drop_table(table)
