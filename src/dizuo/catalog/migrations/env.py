"""Alembic environment: the connection comes from dizuo (``config.attributes``)."""

from alembic import context

import dizuo.audit.models
import dizuo.auth.models
import dizuo.share.models  # noqa: F401  (their tables join Base.metadata)
from dizuo.catalog.models import Base

# Tables that belong to the lake's Iceberg SQL catalog live in the same database; they are
# created by pyiceberg, not by these migrations.
FOREIGN_TABLES = {"iceberg_tables", "iceberg_namespace_properties"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (type_ == "table" and name in FOREIGN_TABLES)


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
