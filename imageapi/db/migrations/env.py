"""Alembic environment: runs migrations on the engine of db.api's context manager."""

from alembic import context

from imageapi.db import api as db_api
from imageapi.db import models

target_metadata = models.BASE.metadata


def run_migrations_online():
    connection = context.config.attributes.get('connection')
    if connection is not None:
        context.configure(connection=connection,
                          target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = db_api.get_engine()
    with engine.connect() as connection:
        context.configure(connection=connection,
                          target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
