"""The repository's shared parts: image statuses, the transaction context and start-up.

The repository is split by subject, each module opening its own reader and writer
blocks on ``main_context_manager``: images, their tags and status changes in
db/images.py; upload claims, their leases and the storage usage counter in
db/uploads.py; image members in db/members.py; the metadata definitions catalog
in db/metadefs/. Image rows become dicts in db/records.py; db/query.py builds the
statements and db/sqlite.py holds SQLite's specifics. Every function returns plain
dicts, never ORM objects, and status changes are compare-and-swap UPDATEs checked
against ALLOWED_TRANSITIONS.
"""

import functools
import threading

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa

from imageapi import context as imageapi_context
from imageapi.db import sqlite

QUEUED = 'queued'
SAVING = 'saving'
ACTIVE = 'active'
# Interoperable import: data staged (glance-direct), and an import running.
UPLOADING = 'uploading'
IMPORTING = 'importing'
# Set neither by imageapi nor by Glance's v2 API; image_count and lists leave
# out a row that has it.
KILLED = 'killed'
DELETED = 'deleted'
# Set by an admin's deactivate: the data stays, only admins may download it.
DEACTIVATED = 'deactivated'

# (from, to) pairs a status change may make: Glance's table for the statuses
# above, less `killed` as a target. Glance's delayed-delete
# statuses are not implemented.
ALLOWED_TRANSITIONS = frozenset([
    (QUEUED, SAVING), (QUEUED, ACTIVE), (QUEUED, DELETED),
    (QUEUED, UPLOADING), (QUEUED, IMPORTING),
    (SAVING, ACTIVE), (SAVING, QUEUED), (SAVING, DELETED),
    (UPLOADING, IMPORTING), (UPLOADING, QUEUED), (UPLOADING, DELETED),
    (IMPORTING, ACTIVE), (IMPORTING, QUEUED), (IMPORTING, DELETED),
    (ACTIVE, DELETED), (ACTIVE, DEACTIVATED),
    (DEACTIVATED, ACTIVE), (DEACTIVATED, DELETED),
    (KILLED, DELETED),
])

# Columns a caller may set through image_create/image_update; the rest
# (status, size, hashes, claim) change only through image_transition.
CORE_FIELDS = ('name', 'disk_format', 'container_format', 'visibility',
               'min_disk', 'min_ram', 'owner', 'protected', 'os_hidden')
RESULT_FIELDS = ('size', 'virtual_size', 'checksum', 'os_hash_algo',
                 'os_hash_value')

# What a database that cannot be reached raises: oslo.db's translation, or
# SQLAlchemy's own error where none happened (a failed reconnect at pool
# checkout). api/middleware/fault.py answers these with 503.
UNAVAILABLE_ERRORS = (db_exc.DBConnectionError, sa.exc.OperationalError)

main_context_manager = enginefacade.transaction_context()
_CONFIGURE_LOCK = threading.Lock()
_configured = False


def _writer(fn):
    """main_context_manager.writer, for a writer on SQLite too (db/sqlite.py)."""
    inner = main_context_manager.writer(fn)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with sqlite.writing():
            return inner(*args, **kwargs)
    return wrapped


def configure(conf):
    """Configure the global transaction context from [database], once.

    A no-op once done, and on a context manager already started (a test
    fixture patched in its own database).
    """
    global _configured
    with _CONFIGURE_LOCK:
        if _configured or main_context_manager.is_started:
            return
        options = {k: v for k, v in conf.database.items()
                   if k in ('connection', 'slave_connection',
                            'sqlite_synchronous', 'max_pool_size',
                            'max_overflow', 'pool_timeout', 'max_retries',
                            'retry_interval', 'connection_recycle_time',
                            'connection_debug', 'connection_trace',
                            'mysql_sql_mode', 'connection_parameters')}
        options['connection'] = connection_url(options.get('connection'))
        # oslo.db's sleep(0) at every connection check-in is for eventlet;
        # with real threads it only adds a scheduler round trip.
        main_context_manager.configure(thread_checkin=False, **options)
        # Called with each engine oslo.db makes, before its first session.
        main_context_manager.append_on_engine_create(
            functools.partial(
                sqlite.pool_file_engine,
                pool_size=conf.database.max_pool_size,
                max_overflow=conf.database.max_overflow,
                timeout=conf.database.pool_timeout,
                recycle=conf.database.connection_recycle_time,
                synchronous=conf.database.sqlite_synchronous))
        _configured = True


def connection_url(url):
    """``url`` with ``charset=utf8mb4`` added for MySQL/MariaDB if unset.

    oslo.db connects to MySQL with charset=utf8 (3-byte UTF-8) unless the
    URL names one; a name or tag with a character beyond U+FFFF (an emoji)
    was then a 500 on MariaDB alone.
    """
    if not url:
        return url
    parsed = sa.engine.make_url(url)
    if (parsed.get_backend_name() != 'mysql'
            or 'charset' in parsed.query):
        return url
    return parsed.update_query_dict({'charset': 'utf8mb4'}).render_as_string(
        hide_password=False)


def get_engine():
    """The engine of main_context_manager's writer side."""
    return main_context_manager.writer.get_engine()


def ping():
    """``SELECT 1`` on a pooled connection, for the health check.

    :raises oslo_db.exception.DBConnectionError: the database is unreachable.
    """
    with main_context_manager.reader.connection.using(
            imageapi_context.get_admin_context()) as connection:
        connection.execute(sa.text('SELECT 1'))


def setup_sqlite_engine(engine, conf):
    """Give ``engine`` what configure() gives the engines oslo.db makes.

    For an engine made elsewhere, as a test fixture makes its own: the
    pooled connections, WAL and writer locks of a SQLite file (db/sqlite.py).
    """
    sqlite.pool_file_engine(
        engine, pool_size=conf.database.max_pool_size,
        max_overflow=conf.database.max_overflow,
        timeout=conf.database.pool_timeout,
        recycle=conf.database.connection_recycle_time,
        synchronous=conf.database.sqlite_synchronous)
