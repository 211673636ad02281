"""Bases of the functional tests: the paste app in process, or the real server.

``InProcessTestCase`` (STYLE.md section 9 a) loads this checkout's
etc/imageapi-paste.ini with ``config.load_paste_app`` over a database built by the
migrations, and drives it with webtest. ``ServerTestCase`` (9 b) starts ``imageapi-api``
on port 0 with ``OS_DEFAULT__STATE_PATH`` set to the test's temp dir and talks to it
over http.client; it can read the SQLite file and the image directory the server writes.
"""

import os
import sqlite3

from testtools import content
import webtest

from imageapi.tests import base
from imageapi.tests import fixtures as imageapi_fixtures
from imageapi.tests.functional import client as http_client
from imageapi.tests.functional import server as server_fixture


class InProcessTestCase(base.TestCase):
    """The real paste pipeline, called in process through webtest."""

    flavor = 'noauth'

    def setUp(self):
        super().setUp()
        # A file, as the embedded default has: request threads and the
        # upload lease thread then each get their own connection, where an
        # in-memory database would make them share one.
        self.useFixture(imageapi_fixtures.Database(
            url='sqlite:///%s/imageapi.sqlite' % self.state_path,
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

    def start_server(self, **kwargs):
        """Start ``server_fixture.Server(self.state_path, **kwargs)``."""
        self.server = server_fixture.Server(self.state_path, **kwargs)
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

    def db_query(self, sql, *params):
        """Rows (as dicts) of a query on the server's SQLite database."""
        connection = sqlite3.connect(self.db_path, timeout=30)
        try:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(sql, params)]
        finally:
            connection.close()

    def image_row(self, image_id):
        """The images row of ``image_id`` as a dict, or None."""
        rows = self.db_query('SELECT * FROM images WHERE id = ?', image_id)
        return rows[0] if rows else None
