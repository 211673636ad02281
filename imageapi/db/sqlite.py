"""SQLite specifics of the repository's engine: its connection pool and connection
settings, and the writer locks that serialize the writers of a SQLite file.

db/api.py installs them on its own engine only (``configure``, through oslo.db's
engine-creation hook, and ``_writer``); nothing here opens a transaction.
"""

import contextlib
import fcntl
import os
import threading
import time

from oslo_log import log as logging
import sqlalchemy as sa

LOG = logging.getLogger(__name__)

# Set while a writer runs in this thread (see writing()).
WRITING = threading.local()

# A SQLite file has one writer at a time. Writers that queue for it on these
# locks get it almost as soon as it is free; queued in SQLite's busy handler
# they sleep in growing steps of up to 100 ms, and eight connections writing
# at once saw p99s of a quarter to a third of a second. Threads of a process
# queue on the RLock, processes on an flock of '<database>-writer-lock',
# next to SQLite's own -wal and -shm files.
# Set up by pool_file_engine, so only for a file-based SQLite engine.
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

    The mark makes the transaction begin IMMEDIATE (_begin_immediate);
    nested writers re-enter the thread lock and do not take the file lock
    again.
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


def pool_file_engine(engine, pool_size, max_overflow, timeout, recycle=-1,
                     synchronous=True):
    """Pool the connections of a SQLite file engine; serialize its writers.

    oslo.db's engine-creation hook (db/api.py ``configure``); it leaves
    other engines alone. oslo.db gives file-based SQLite a NullPool, so
    every transaction opened the file and set it up again: a third of a
    show request. SQLAlchemy's own default for such files is a QueuePool;
    this puts one in, sized by the [database] pool options.
    """
    global _serialize_writers, _lock_path
    if engine.dialect.name != 'sqlite' or not isinstance(
            engine.pool, sa.pool.NullPool):
        return
    # The dialect learns the SQLite version on the first connection of the
    # pool create_engine made ([database] max_retries has usually made it
    # already): before that pool goes.
    with engine.connect():
        pass
    old_pool = engine.pool
    pool = _queue_pool(engine, pool_size, max_overflow, timeout, recycle)
    _listen(engine, pool, synchronous)
    engine.pool = pool
    old_pool.dispose()
    _serialize_writers = True
    _lock_path = os.path.abspath(engine.url.database) + '-writer-lock'


def _queue_pool(engine, pool_size, max_overflow, timeout, recycle):
    # pysqlite: create_connect_args sets check_same_thread=False for a file,
    # so a connection may serve any thread, one at a time, as pools do.
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    return sa.pool.QueuePool(
        lambda: engine.dialect.connect(*cargs, **cparams),
        pool_size=5 if pool_size is None else pool_size,
        max_overflow=-1 if max_overflow is None else max_overflow,
        timeout=timeout or 30, recycle=recycle, use_lifo=True,
        pre_ping=True, dialect=engine.dialect)


def _listen(engine, pool, synchronous):
    """The connection set-up of ``engine``'s new ``pool``, on that pool only.

    The listeners of the pool create_engine made go with it: SQLAlchemy's
    dialect set-up (SQL functions such as regexp), and oslo.db's SQLite
    settings and process guard (oslo_db/sqlalchemy/engines.py
    ``_init_events``, ``_add_process_guards``). What imageapi needs of them
    is done here again. oslo.db's others are not needed: sqlite_fk and
    thread_checkin are off ([database] gives no sqlite_fk; db/api.py sets
    thread_checkin=False), and its regexp function differs from
    SQLAlchemy's only for non-strings, which imageapi never matches.
    oslo.db's engine-level listeners (BEGIN, COMMIT, error translation)
    are on the engine and stay.
    """
    dialect_setup = engine.dialect.on_connect_url(engine.url)

    def connect(dbapi_conn, record):
        if dialect_setup is not None:
            dialect_setup(dbapi_conn)
        # oslo.db's "begin" listener emits BEGIN; pysqlite must not.
        dbapi_conn.isolation_level = None
        record.info['pid'] = os.getpid()
        cursor = dbapi_conn.cursor()
        try:
            if not synchronous:
                cursor.execute('PRAGMA synchronous = OFF')
            _wal(dbapi_conn, cursor)
        finally:
            cursor.close()

    def checkout(dbapi_conn, record, proxy):
        # A connection made before a fork is the parent's: have the pool
        # make another, as oslo.db's process guard does.
        if record.info['pid'] != os.getpid():
            raise sa.exc.DisconnectionError(
                'Connection of process %s checked out in process %s'
                % (record.info['pid'], os.getpid()))

    sa.event.listen(pool, 'connect', connect)
    sa.event.listen(pool, 'checkout', checkout)
    sa.event.listen(engine, 'before_cursor_execute', _begin_immediate,
                    retval=True)


def _begin_immediate(conn, cursor, statement, parameters, context,
                     executemany):
    """Writers begin IMMEDIATE: they take SQLite's write lock up front.

    oslo.db begins every transaction with a DEFERRED "BEGIN" (its "begin"
    listener; [database] connection_trace appends a comment). A DEFERRED
    transaction that has read fails at its first write, at once and
    without the busy timeout, with "database is locked", whenever another
    writer holds the lock or has committed since the read. The writer
    locks keep that from happening between imageapi's writers, but not
    without them (a lock file that cannot be opened, a wait of over 30 s)
    nor against other programs; an IMMEDIATE writer waits instead.
    """
    if getattr(WRITING, 'depth', 0) and (
            statement == 'BEGIN' or statement.startswith('BEGIN  --')):
        statement = 'BEGIN IMMEDIATE' + statement[len('BEGIN'):]
    return statement, parameters


def _wal(dbapi_conn, cursor):
    """WAL, and a busy timeout: what is left when the writer locks are not.

    Several gunicorn workers and threads share one SQLite file; in WAL
    mode readers run alongside the writer. Writers wait for each other on
    the writer locks, or, without them, in SQLite's busy handler.
    """
    cursor.execute('PRAGMA busy_timeout = 30000')
    try:
        # Stored in the file: once set, this is only a read.
        if cursor.execute('PRAGMA journal_mode').fetchone()[0] != 'wal':
            cursor.execute('PRAGMA journal_mode = WAL')
    except dbapi_conn.OperationalError:
        # Switching needs the file to itself, and another process (say, a
        # worker creating the schema) holds it: a later connection will.
        pass
