"""The SQLite engine plumbing of db/sqlite.py, on real SQLite files."""

import sqlite3
import subprocess
import sys
import threading

import fixtures as pyfixtures
from oslo_db.sqlalchemy import engines
import sqlalchemy as sa

from imageapi.db import sqlite
from imageapi.tests import base


class SqliteFilePoolTest(base.TestCase):
    """File SQLite keeps pooled connections, with imageapi's PRAGMAs."""

    def setUp(self):
        super().setUp()
        path = self.useFixture(pyfixtures.TempDir()).join('pool.sqlite')
        self.engine = engines.create_engine('sqlite:///' + path,
                                            thread_checkin=False)
        self.addCleanup(self.engine.dispose)
        self.connects = []
        sa.event.listen(self.engine, 'connect',
                        lambda *args: self.connects.append(1))
        # _pool_sqlite_file turns this on for the whole process.
        for name, value in (('_serialize_writers', False),
                            ('_lock_path', None),
                            ('_lock_file', (None, None))):
            self.useFixture(pyfixtures.MockPatch(
                'imageapi.db.sqlite.' + name, value))

    def test_oslo_db_null_pool_becomes_a_queue_pool(self):
        self.assertIsInstance(self.engine.pool, sa.pool.NullPool)

        sqlite.pool_file_engine(self.engine, 7, 3, None)

        self.assertIsInstance(self.engine.pool, sa.pool.QueuePool)
        self.assertEqual(7, self.engine.pool.size())

    def test_connections_are_reused_and_keep_wal(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)
        for _ in range(20):
            with self.engine.connect() as conn:
                mode = conn.exec_driver_sql('PRAGMA journal_mode').scalar()
                timeout = conn.exec_driver_sql('PRAGMA busy_timeout').scalar()

        self.assertEqual(1, len(self.connects))
        self.assertEqual('wal', mode)
        self.assertEqual(30000, timeout)

    def test_threads_share_the_pool(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)
        with self.engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE t (n INTEGER)')
        errors = []

        def work(n):
            # As in a db.api writer: BEGIN IMMEDIATE (see _sqlite_begin).
            sqlite.WRITING.depth = 1
            try:
                for i in range(20):
                    with self.engine.begin() as conn:
                        conn.exec_driver_sql('INSERT INTO t VALUES (%d)'
                                             % (n * 100 + i))
            except Exception as exc:  # noqa: B902 - reported below
                errors.append(exc)
            finally:
                sqlite.WRITING.depth = 0
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        self.assertEqual([], errors)
        with self.engine.connect() as conn:
            self.assertEqual(80, conn.exec_driver_sql(
                'SELECT count(*) FROM t').scalar())
        self.assertLessEqual(len(self.connects), 4)

    def _other_writer_can_start(self):
        other = sqlite3.connect(self.engine.url.database, timeout=0,
                                isolation_level=None)
        try:
            other.execute('BEGIN IMMEDIATE')
            other.execute('ROLLBACK')
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    def test_writers_take_the_write_lock_when_they_begin(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)
        with self.engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE t (n INTEGER)')
        sqlite.WRITING.depth = 1
        try:
            with self.engine.begin():
                writer_holds_lock = not self._other_writer_can_start()
        finally:
            sqlite.WRITING.depth = 0
        with self.engine.begin() as conn:
            conn.exec_driver_sql('SELECT count(*) FROM t').scalar()
            reader_holds_lock = not self._other_writer_can_start()

        self.assertTrue(writer_holds_lock)
        self.assertFalse(reader_holds_lock)

    def test_a_sqlite_file_serializes_the_writers_of_the_process(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)

        self.assertTrue(sqlite._serialize_writers)

    def test_writers_of_other_processes_wait_for_the_file_lock(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)
        probe = ('import fcntl, os, sys\n'
                 'fd = os.open(sys.argv[1], os.O_RDWR)\n'
                 'try:\n'
                 '    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n'
                 '    print("free")\n'
                 'except BlockingIOError:\n'
                 '    print("held")\n')

        def other_process_sees():
            return subprocess.run(
                [sys.executable, '-c', probe, sqlite._lock_path],
                capture_output=True, text=True, check=True).stdout.strip()

        with sqlite.writing():
            with sqlite.writing():  # nested: no second lock, no deadlock
                inside = other_process_sees()
            still_inside = other_process_sees()
        after = other_process_sees()

        self.assertEqual(('held', 'held', 'free'),
                         (inside, still_inside, after))
        self.assertEqual(0, sqlite.WRITING.depth)

    def test_writers_go_on_without_a_lock_file_that_cannot_be_made(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)
        self.useFixture(pyfixtures.MockPatch(
            'imageapi.db.sqlite._lock_path',
            self.useFixture(pyfixtures.TempDir()).join('gone', 'lock')))
        with self.engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE t (n INTEGER)')

        with sqlite.writing():
            with self.engine.begin() as conn:
                conn.exec_driver_sql('INSERT INTO t VALUES (1)')

        with self.engine.connect() as conn:
            self.assertEqual(1, conn.exec_driver_sql(
                'SELECT count(*) FROM t').scalar())
        self.assertIsNone(sqlite._lock_path)  # not tried on every write

    def test_other_backends_and_pools_are_left_alone(self):
        pool = self.engine.pool
        memory = sa.create_engine('sqlite://')
        self.addCleanup(memory.dispose)
        memory_pool = memory.pool

        sqlite.pool_file_engine(memory, 4, 10, None)

        self.assertIs(memory_pool, memory.pool)
        self.assertIs(pool, self.engine.pool)
