"""upgrade/version/stamp wrappers around alembic, for imageapi-manage and the server."""

import contextlib
import fcntl
import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script

from imageapi.db import api as db_api

_MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'migrations')


def _config(connection=None):
    config = alembic_config.Config(os.path.join(_MIGRATIONS, 'alembic.ini'))
    config.set_main_option('script_location', _MIGRATIONS)
    if connection is not None:
        config.attributes['connection'] = connection
    return config


def upgrade(revision='head', connection=None):
    """Apply migrations up to ``revision`` on the configured database."""
    command.upgrade(_config(connection), revision)


def version(engine=None):
    """The current revision of the database, or None if unversioned."""
    engine = engine or db_api.get_engine()
    with engine.connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()


def head():
    return script.ScriptDirectory.from_config(_config()).get_current_head()


@contextlib.contextmanager
def _sqlite_upgrade_lock(engine):
    """Hold an flock on the directory of a SQLite file while upgrading it.

    mod_wsgi or gunicorn processes that start together would otherwise race
    to create the schema, and all but one fail with "database is locked".
    """
    database = engine.url.database
    if not database or database == ':memory:' or database.startswith('file:'):
        yield
        return
    fd = os.open(os.path.dirname(os.path.abspath(database)), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure_schema(conf):
    """Embedded SQLite: upgrade to head. Other databases: only check.

    Shared databases are upgraded by the operator with ``imageapi-manage db
    sync``, so that nodes of different releases never race on a migration.
    """
    engine = db_api.get_engine()
    if engine.dialect.name == 'sqlite':
        with _sqlite_upgrade_lock(engine):
            upgrade('head')
        return
    current = version(engine)
    if current != head():
        raise RuntimeError(
            'Database schema is at revision %s, this release needs %s: run '
            '"imageapi-manage db sync".' % (current, head()))
