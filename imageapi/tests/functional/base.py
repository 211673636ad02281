"""Bases of the functional tests: the paste app in process, or the real server.

``InProcessTestCase`` (STYLE.md section 9 a) loads this checkout's
etc/imageapi-paste.ini with ``config.load_paste_app`` over a database built by the
migrations, and drives it with webtest. ``ServerTestCase`` (9 b) starts ``imageapi-api``
on port 0 with ``OS_DEFAULT__STATE_PATH`` set to the test's temp dir and talks to it
over http.client; it can read the database and the image directory the server writes.
Both run on SQLite, or on a throwaway database of the backend IMAGEAPI_TEST_DB_BACKEND
names (databases.py).
"""

import contextlib
import os

import sqlalchemy as sa
from testtools import content
import webtest

from imageapi.tests import base
from imageapi.tests import fixtures as imageapi_fixtures
from imageapi.tests.functional import client as http_client
from imageapi.tests.functional import databases
from imageapi.tests.functional import server as server_fixture


class InProcessTestCase(base.TestCase):
    """The real paste pipeline, called in process through webtest."""

    flavor = 'noauth'

    def setUp(self):
        super().setUp()
        # A file, as the embedded default has: request threads and the
        # upload lease thread then each get their own connection, where an
        # in-memory database would make them share one.
        url = 'sqlite:///%s/imageapi.sqlite' % self.state_path
        if databases.backend() != 'sqlite':
            url = self.useFixture(databases.ServerDatabase(
                self, databases.backend(), synced=False)).url
        self.useFixture(imageapi_fixtures.Database(url=url,
                                                   from_migrations=True))
        self.flags(config_file=server_fixture.PASTE_INI, flavor=self.flavor,
                   group='paste_deploy')
        # No periodic reaper thread: it would outlive the test (and its
        # database). Lease renewal threads still run during uploads.
        self.flags(reap_interval=0, group='upload')
        self.app = self.load_app()
        self.api = webtest.TestApp(self.app)

    def load_app(self):
        """The pipeline of ``flavor``; override to set options first."""
        return self.load_paste_app()


class RealServerTestCase(base.TestCase):
    """What every test of a running ``imageapi-api`` uses: its log, its status checks."""

    server_class = server_fixture.Server
    database_url = None

    def start_server(self, **kwargs):
        """Start ``server_class(self.state_path, **kwargs)``.

        On a backend other than SQLite the server gets the test's database
        (one per test, made on the first start) unless ``env`` names one.
        """
        env = dict(kwargs.pop('env', None) or {})
        if (databases.backend() != 'sqlite'
                and 'OS_DATABASE__CONNECTION' not in env):
            if self.database_url is None:
                self.database_url = self.useFixture(databases.ServerDatabase(
                    self, databases.backend())).url
            env['OS_DATABASE__CONNECTION'] = self.database_url
        self.server = self.server_class(self.state_path, env=env, **kwargs)
        self.addOnException(self._attach_server_log)
        self.useFixture(self.server)
        return self.server

    def _attach_server_log(self, exc_info):
        self.addDetail('imageapi-api-log',
                       content.text_content(self.server.log()))

    def assertStatus(self, expected, response):
        """Check the status, and that every response has a request id."""
        self.assertEqual(expected, response.status,
                         'unexpected response %r: %r'
                         % (response, response.body))
        self.assertIsNotNone(response.request_id,
                             'no %s header' % http_client.REQUEST_ID_HEADER)
        self.assertTrue(response.request_id.startswith('req-'),
                        response.request_id)


class ServerTestCase(RealServerTestCase):
    """A fresh ``imageapi-api`` per test, on ``self.state_path``.

    Set ``workers`` or ``server_env`` (OS_<GROUP>__<OPTION> variables) on
    a subclass to change how the server starts.
    """

    workers = 1
    server_env = {}

    def setUp(self):
        super().setUp()
        self.start_server(workers=self.workers, env=self.server_env)
        self.client = self.server.client()

    # ------------------------------------------------------------ API
    def create_image(self, **fields):
        response = self.client.create_image(**fields)
        self.assertStatus(201, response)
        return response.json()

    def show_image(self, image_id):
        response = self.client.get('/v2/images/%s' % image_id)
        self.assertStatus(200, response)
        return response.json()

    # ------------------------------------------------------------ state
    @property
    def db_path(self):
        return os.path.join(self.state_path, 'imageapi.sqlite')

    @property
    def datadir(self):
        return os.path.join(self.state_path, 'images')

    def image_path(self, image_id):
        """Where the filesystem store keeps the data of ``image_id``."""
        return os.path.join(self.datadir, image_id)

    def temp_files(self):
        """Names of unfinished upload files in the store's .tmp directory."""
        tmp = os.path.join(self.datadir, '.tmp')
        return sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []

    def db_query(self, sql, *args, **params):
        """Rows (as dicts) of a query on the server's database.

        Parameters are ``:name`` (keyword arguments) or ``?`` (positional).
        """
        with self._db_connection() as connection:
            result = connection.execute(*_bind(sql, args, params))
            return [dict(row) for row in result.mappings()]

    def db_execute(self, sql, *args, **params):
        """Change the server's database behind its back (as another node)."""
        with self._db_connection() as connection:
            connection.execute(*_bind(sql, args, params))
            connection.commit()

    @contextlib.contextmanager
    def _db_connection(self):
        if self.database_url:
            engine = sa.create_engine(self.database_url,
                                      poolclass=sa.pool.NullPool)
        else:
            # Waits out the server's writers, as they wait for each other.
            engine = sa.create_engine('sqlite:///%s' % self.db_path,
                                      poolclass=sa.pool.NullPool,
                                      connect_args={'timeout': 30})
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def database_env(self):
        """The environment that points a command at the server's database."""
        if self.database_url:
            return {'OS_DATABASE__CONNECTION': self.database_url}
        return {}

    def image_row(self, image_id):
        """The images row of ``image_id`` as a dict, or None."""
        rows = self.db_query('SELECT * FROM images WHERE id = :id',
                             id=image_id)
        return rows[0] if rows else None


def _bind(sql, args, params):
    """``sql`` and its parameters for SQLAlchemy; ``?`` becomes ``:pN``."""
    params = dict(params)
    if args:
        pieces = sql.split('?')
        if len(pieces) != len(args) + 1:
            raise ValueError('%d arguments for %d placeholders'
                             % (len(args), len(pieces) - 1))
        sql = pieces[0] + ''.join(':p%d%s' % (i, piece)
                                  for i, piece in enumerate(pieces[1:]))
        params.update(('p%d' % i, arg) for i, arg in enumerate(args))
    return sa.text(sql), params
