"""SQLite specifics of the repository's engine: connection settings, how
transactions begin, the connection pool and the per-process writer lock.

db/api.py installs them (``configure``, ``_writer``); nothing here opens a transaction.
"""

import contextlib
import threading

import sqlalchemy as sa


@sa.event.listens_for(sa.engine.Engine, 'connect')
def _sqlite_connect(dbapi_conn, record):
    """SQLite: WAL, a busy timeout, and transactions we begin ourselves.

    Several gunicorn workers and threads share one SQLite file. pysqlite
    begins transactions lazily (DEFERRED), so a transaction that reads and
    then writes can deadlock with another writer and fail at once with
    "database is locked"; see _sqlite_begin.
    """
    if type(dbapi_conn).__module__ != 'sqlite3':
        return
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute('PRAGMA busy_timeout = 30000')
    try:
        # Stored in the file: once set, this is only a read.
        if cursor.execute('PRAGMA journal_mode').fetchone()[0] != 'wal':
            cursor.execute('PRAGMA journal_mode = WAL')
    except dbapi_conn.OperationalError:
        # Switching needs the file to itself, and another process (say, a
        # worker creating the schema) holds it: a later connection will.
        pass
    finally:
        cursor.close()


# Set while a writer transaction runs in this thread; see _sqlite_begin.
WRITING = threading.local()


@sa.event.listens_for(sa.engine.Engine, 'begin')
def _sqlite_begin(connection):
    """SQLite transactions begin here: writers with BEGIN IMMEDIATE.

    A writer that reads first and writes later would otherwise fail at once
    when another writer got there in between. Taking the write lock up front
    makes it wait (busy timeout) instead; readers keep plain BEGIN, and in
    WAL mode they run alongside the writer.
    """
    if (connection.dialect.name != 'sqlite'
            or 'in_transaction' in connection.info):
        return
    statement = 'BEGIN IMMEDIATE' if getattr(WRITING, 'depth', 0) else 'BEGIN'
    # On the DBAPI connection itself: through SQLAlchemy's execution path
    # (as oslo.db's own listener does it) BEGIN cost as much as a query.
    connection.connection.dbapi_connection.execute(statement)
    # oslo.db's sqlite listener emits a plain BEGIN unless this marker is
    # set, and clears it on commit and rollback.
    connection.info['in_transaction'] = True


# A SQLite file has one writer at a time. Threads of one process that queue
# for it on this lock get it the moment it is free; queued in SQLite's busy
# handler they sleep in growing steps of up to 100 ms, and eight
# connections writing at once saw p99s of a quarter second. Set by
# pool_file_engine, so only for file-based SQLite.
_SQLITE_WRITERS = threading.RLock()
_serialize_writers = False


@contextlib.contextmanager
def writing():
    """Around a writer transaction: take the writer lock, mark the thread.

    The mark makes _sqlite_begin start the transaction IMMEDIATE; nested
    writers re-enter the lock.
    """
    lock = (_SQLITE_WRITERS if _serialize_writers
            else contextlib.nullcontext())
    with lock:
        WRITING.depth = getattr(WRITING, 'depth', 0) + 1
        try:
            yield
        finally:
            WRITING.depth -= 1


def pool_file_engine(engine, pool_size, max_overflow, timeout):
    """Keep SQLite file connections open between transactions.

    oslo.db gives file-based SQLite a NullPool, so every transaction opened
    the file and ran the PRAGMAs of _sqlite_connect again: a third of a
    show request. SQLAlchemy's own default for such files is a QueuePool
    (pysqlite connections are then made with check_same_thread=False);
    this puts that back, sized by the [database] pool options.
    """
    global _serialize_writers
    pool = engine.pool
    if engine.dialect.name != 'sqlite' or not isinstance(
            pool, sa.pool.NullPool):
        return
    _serialize_writers = True
    engine.pool = sa.pool.QueuePool(
        pool._creator, pool_size=5 if pool_size is None else pool_size,
        max_overflow=-1 if max_overflow is None else max_overflow,
        timeout=timeout or 30, use_lifo=True, recycle=pool._recycle,
        echo=pool.echo,
        logging_name=pool._orig_logging_name,
        reset_on_return=pool._reset_on_return, _dispatch=pool.dispatch,
        dialect=pool._dialect)
