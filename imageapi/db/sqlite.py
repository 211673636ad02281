"""SQLite specifics of the repository's engine: connection settings, how
transactions begin, the connection pool and the per-process writer lock.

db/api.py installs them (``configure``, ``_writer``); nothing here opens a transaction.
"""

import contextlib
import fcntl
import os
import threading
import time

from oslo_log import log as logging
import sqlalchemy as sa

LOG = logging.getLogger(__name__)


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


# A SQLite file has one writer at a time. Writers that queue for it on these
# locks get it almost as soon as it is free; queued in SQLite's busy handler
# they sleep in growing steps of up to 100 ms, and eight connections writing
# at once saw p99s of a quarter to a third of a second. Threads of a process
# queue on the RLock, processes on an flock of '<database>-writer-lock',
# next to SQLite's own -wal and -shm files.
# Set up by pool_file_engine, so only for file-based SQLite.
_SQLITE_WRITERS = threading.RLock()
_serialize_writers = False
_lock_path = None
_lock_file = (None, None)  # (pid, fd): each process opens its own
# Past this, a writer goes on without the file lock: SQLite's busy timeout
# (30 s) then decides, as it did before the lock existed.
_LOCK_WAIT_SECONDS = 30.0


def _lock_fd():
    global _lock_file
    pid = os.getpid()
    if _lock_file[0] != pid:
        # NOTE: after a fork the parent's descriptor shares the parent's
        # lock; the child needs its own open file description.
        _lock_file = (pid, os.open(_lock_path,
                                   os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                   0o600))
    return _lock_file[1]


def _lock_other_processes():
    """Take the writer file lock; False if it could not be had in time."""
    global _lock_path
    try:
        fd = _lock_fd()
    except OSError as exc:
        # Without the file (a read-only directory, say) this process's
        # writers meet others in SQLite's busy handler, as they did before
        # the lock existed. Said once.
        LOG.warning('SQLite writer lock %s unavailable: %s', _lock_path, exc)
        _lock_path = None
        return False
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    pause = 0.0002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


@contextlib.contextmanager
def writing():
    """Around a writer transaction: take the writer locks, mark the thread.

    The mark makes _sqlite_begin start the transaction IMMEDIATE; nested
    writers re-enter the thread lock and do not take the file lock again.
    """
    lock = (_SQLITE_WRITERS if _serialize_writers
            else contextlib.nullcontext())
    with lock:
        depth = getattr(WRITING, 'depth', 0)
        locked = (_serialize_writers and not depth
                  and _lock_path is not None and _lock_other_processes())
        WRITING.depth = depth + 1
        try:
            yield
        finally:
            WRITING.depth = depth
            if locked:
                fcntl.flock(_lock_fd(), fcntl.LOCK_UN)


def pool_file_engine(engine, pool_size, max_overflow, timeout):
    """Keep SQLite file connections open between transactions.

    oslo.db gives file-based SQLite a NullPool, so every transaction opened
    the file and ran the PRAGMAs of _sqlite_connect again: a third of a
    show request. SQLAlchemy's own default for such files is a QueuePool
    (pysqlite connections are then made with check_same_thread=False);
    this puts that back, sized by the [database] pool options.
    """
    global _serialize_writers, _lock_path
    pool = engine.pool
    if engine.dialect.name != 'sqlite' or not isinstance(
            pool, sa.pool.NullPool):
        return
    _serialize_writers = True
    _lock_path = os.path.abspath(engine.url.database) + '-writer-lock'
    engine.pool = sa.pool.QueuePool(
        pool._creator, pool_size=5 if pool_size is None else pool_size,
        max_overflow=-1 if max_overflow is None else max_overflow,
        timeout=timeout or 30, use_lifo=True, recycle=pool._recycle,
        echo=pool.echo,
        logging_name=pool._orig_logging_name,
        reset_on_return=pool._reset_on_return, _dispatch=pool.dispatch,
        dialect=pool._dialect)
