"""Alembic environment: runs on the connection handed over by review_watch.storage.database.migrate."""

from alembic import context

from review_watch.storage.orm import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations through `review-watch init` or review_watch.storage.database.migrate")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
