"""The SQLite engine plumbing of db/sqlite.py, on real SQLite files."""

import os
import sqlite3
import subprocess
import sys
import threading

import fixtures as pyfixtures
from oslo_db.sqlalchemy import engines
import sqlalchemy as sa

from imageapi import context
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import sqlite
from imageapi.tests import base
from imageapi.tests import fixtures


class SqliteFileTestCase(base.TestCase):
    """An oslo.db engine on a SQLite file, and the module's state reset."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(pyfixtures.TempDir())
        self.engine = self.oslo_db_engine('pool.sqlite')
        # pool_file_engine turns these on for the whole process.
        for name, value in (('_serialize_writers', False),
                            ('_lock_path', None),
                            ('_lock_file', (None, None))):
            self.useFixture(pyfixtures.MockPatch(
                'imageapi.db.sqlite.' + name, value))

    def oslo_db_engine(self, name, **kw):
        engine = engines.create_engine('sqlite:///' + self.tmp.join(name),
                                       thread_checkin=False, **kw)
        self.addCleanup(engine.dispose)
        return engine

    def run_in_threads(self, work, count):
        """Run work(0) ... work(count - 1) at once; the exceptions raised."""
        errors = []

        def run(n):
            try:
                work(n)
            except Exception as exc:  # noqa: B902 - returned
                errors.append(exc)
        threads = [threading.Thread(target=run, args=(n,))
                   for n in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        return errors

    def count_connects(self, engine):
        connects = []
        sa.event.listen(engine, 'connect', lambda *args: connects.append(1))
        return connects


class SqliteFilePoolTest(SqliteFileTestCase):
    """File SQLite keeps pooled connections, with imageapi's PRAGMAs."""

    def test_oslo_db_null_pool_becomes_a_queue_pool(self):
        self.assertIsInstance(self.engine.pool, sa.pool.NullPool)

        sqlite.pool_file_engine(self.engine, 7, 3, None)

        self.assertIsInstance(self.engine.pool, sa.pool.QueuePool)
        self.assertEqual(7, self.engine.pool.size())

    def test_connections_are_reused_and_keep_wal(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)
        connects = self.count_connects(self.engine)
        for _ in range(20):
            with self.engine.connect() as conn:
                mode = conn.exec_driver_sql('PRAGMA journal_mode').scalar()
                timeout = conn.exec_driver_sql('PRAGMA busy_timeout').scalar()

        self.assertEqual(1, len(connects))
        self.assertEqual('wal', mode)
        self.assertEqual(30000, timeout)

    def test_connections_get_oslo_db_and_dialect_settings_again(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None, synchronous=False)

        with self.engine.connect() as conn:
            dbapi_conn = conn.connection.dbapi_connection
            synchronous = conn.exec_driver_sql('PRAGMA synchronous').scalar()
            # SQLAlchemy's regexp function, from the dialect's set-up.
            matches = conn.execute(sa.select(
                sa.literal('cirros-0.6').regexp_match('^cirros'))).scalar()

        self.assertIsNone(dbapi_conn.isolation_level)  # oslo.db BEGINs
        self.assertEqual(0, synchronous)  # [database] sqlite_synchronous
        self.assertTrue(matches)

    def test_dialect_is_initialized_before_the_pool_is_replaced(self):
        # With max_retries=0 oslo.db makes no connection of its own.
        engine = self.oslo_db_engine('lazy.sqlite', max_retries=0)

        sqlite.pool_file_engine(engine, 4, 10, None)

        self.assertIsNotNone(engine.dialect.server_version_info)
        with engine.connect() as conn:
            self.assertEqual(1, conn.exec_driver_sql('SELECT 1').scalar())

    def test_connection_of_another_process_is_replaced(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)
        connects = self.count_connects(self.engine)
        with self.engine.connect() as conn:
            first = conn.connection.dbapi_connection
            conn.info['pid'] = os.getpid() + 1  # as if made before a fork

        with self.engine.connect() as conn:
            second = conn.connection.dbapi_connection

        self.assertIsNot(first, second)
        self.assertEqual(2, len(connects))

    def test_plain_engine_gets_none_of_our_listeners(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)
        plain = sa.create_engine('sqlite:///' + self.tmp.join('plain.sqlite'))
        self.addCleanup(plain.dispose)
        pool = plain.pool

        sqlite.pool_file_engine(plain, 4, 10, None)  # not oslo.db's NullPool
        with plain.begin() as conn:
            dbapi_conn = conn.connection.dbapi_connection
            mode = conn.exec_driver_sql('PRAGMA journal_mode').scalar()
            timeout = conn.exec_driver_sql('PRAGMA busy_timeout').scalar()

        self.assertIs(pool, plain.pool)
        self.assertEqual('delete', mode)
        self.assertEqual(5000, timeout)  # pysqlite's default, 5 s
        self.assertEqual('', dbapi_conn.isolation_level)  # pysqlite's own

    def test_threads_share_the_pool(self):
        sqlite.pool_file_engine(self.engine, 4, 10, None)
        connects = self.count_connects(self.engine)
        with self.engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE t (n INTEGER)')

        def work(n):
            for i in range(20):
                with sqlite.writing(), self.engine.begin() as conn:
                    conn.exec_driver_sql('INSERT INTO t VALUES (%d)'
                                         % (n * 100 + i))

        self.assertEqual([], self.run_in_threads(work, 4))
        with self.engine.connect() as conn:
            self.assertEqual(80, conn.exec_driver_sql(
                'SELECT count(*) FROM t').scalar())
        self.assertLessEqual(len(connects), 4)

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
        with sqlite.writing(), self.engine.begin():
            writer_holds_lock = not self._other_writer_can_start()
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


class ConcurrentWritersTest(SqliteFileTestCase):
    """db.api writers in many threads on one SQLite file."""

    def write_from_threads(self, serialized=True):
        self.useFixture(fixtures.Database(
            url='sqlite:///' + self.tmp.join('images.sqlite')))
        engine = db_api.get_engine()
        # What db_api.configure has oslo.db do with the engines it makes.
        sqlite.pool_file_engine(engine, 4, 10, None)
        sqlite._serialize_writers = serialized  # reset by setUp's patch
        ids = []

        def work(n):
            ctx = context.RequestContext(project_id='p%d' % n,
                                         roles=['member'], overwrite=False)
            for i in range(10):
                image = db_images.image_create(
                    ctx, {'owner': ctx.project_id, 'name': 'n%d' % i})
                db_images.image_update(ctx, image['id'], {'name': 'renamed'})
                ids.append(image['id'])

        self.assertEqual([], self.run_in_threads(work, 8))
        with engine.connect() as conn:
            self.assertEqual(80, conn.exec_driver_sql(
                "SELECT count(*) FROM images WHERE name = 'renamed'").scalar())
        self.assertEqual(80, len(set(ids)))

    def test_db_api_writers_in_threads_are_never_locked_out(self):
        self.write_from_threads()

    def test_writers_without_the_writer_locks_wait_instead_of_failing(self):
        # As when the lock file cannot be opened: SQLite's busy timeout,
        # with transactions that begin IMMEDIATE, is what is left.
        self.write_from_threads(serialized=False)
