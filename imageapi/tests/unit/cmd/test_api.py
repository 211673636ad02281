"""imageapi-api: the gunicorn settings it builds and the address it reports."""

import io
import os
import socket
from unittest import mock

from imageapi.cmd import api
from imageapi.common import config
from imageapi.db import migration
from imageapi.tests import base
from imageapi.tests import fixtures as imageapi_fixtures


class _Listener:
    def __init__(self, address):
        self.address = address

    def getsockname(self):
        return self.address


class TestListenerURL(base.TestCase):

    def test_ipv4(self):
        self.assertEqual('http://127.0.0.1:9292',
                         api.listener_url(_Listener(('127.0.0.1', 9292))))

    def test_ipv6_is_bracketed(self):
        self.assertEqual('http://[::1]:9292',
                         api.listener_url(_Listener(('::1', 9292, 0, 0))))

    def test_unix_socket(self):
        self.assertEqual('unix:/run/imageapi.sock',
                         api.listener_url(_Listener('/run/imageapi.sock')))

    def test_port_zero_reports_the_bound_port(self):
        sock = socket.socket()
        self.addCleanup(sock.close)
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        self.assertNotEqual(0, port)
        self.assertEqual('http://127.0.0.1:%d' % port, api.listener_url(sock))

    def test_when_ready_prints_one_line_per_listener(self):
        server = mock.Mock(LISTENERS=[_Listener(('127.0.0.1', 4321)),
                                      _Listener(('::1', 4322, 0, 0))])
        with mock.patch('sys.stdout', new_callable=io.StringIO) as out:
            api.Server._when_ready(server)
        self.assertEqual('imageapi-api listening on http://127.0.0.1:4321\n'
                         'imageapi-api listening on http://[::1]:4322\n',
                         out.getvalue())


class TestServerSettings(base.TestCase):

    def _conf(self, *argv):
        conf = config.new_conf()
        conf.register_cli_opts(api.cli_opts)
        conf(list(argv), project='imageapi', default_config_files=[],
             default_config_dirs=[])
        return conf

    def test_defaults_come_from_wsgi_group(self):
        settings = api.Server(self._conf()).cfg
        self.assertEqual(['127.0.0.1:9292'], settings.bind)
        self.assertEqual(2, settings.workers)
        self.assertEqual('gthread', settings.settings['worker_class'].value)
        self.assertEqual(8, settings.threads)

    def test_timeouts_come_from_wsgi_group(self):
        conf = self._conf()
        conf.set_override('timeout', 300, group='wsgi')
        conf.set_override('keepalive', 2, group='wsgi')
        conf.set_override('graceful_timeout', 90, group='wsgi')
        conf.set_override('cleanup_timeout', 7, group='wsgi')

        settings = api.Server(conf).cfg

        # gunicorn kills a worker only after the uploads aborted at
        # graceful_timeout had cleanup_timeout to clean up.
        self.assertEqual((300, 2, 97), (settings.timeout, settings.keepalive,
                                        settings.graceful_timeout))

    def test_access_log_of_gunicorn_off(self):
        settings = api.Server(self._conf()).cfg

        self.assertIsNone(settings.accesslog)

    def test_command_line_overrides(self):
        settings = api.Server(self._conf('--bind', '127.0.0.1:0',
                                         '--workers', '1')).cfg
        self.assertEqual(['127.0.0.1:0'], settings.bind)
        self.assertEqual(1, settings.workers)

    def test_control_socket_is_off(self):
        settings = api.Server(self._conf()).cfg
        if 'control_socket_disable' not in settings.settings:
            self.skipTest('gunicorn without a control socket')
        self.assertTrue(settings.control_socket_disable)


class _EmptyDatabase(imageapi_fixtures.Database):
    """A database with no schema at all."""

    def generate_schema_create_all(self, engine):
        pass


class TestMain(base.TestCase):

    def setUp(self):
        super().setUp()
        # A file, not memory: main() disposes the engine before forking.
        self.useFixture(_EmptyDatabase(
            url='sqlite:///%s/imageapi.sqlite' % self.state_path))
        self.config_file = os.path.join(self.state_path, 'empty.conf')
        open(self.config_file, 'w').close()

    @mock.patch('oslo_log.log.setup')
    @mock.patch.object(api.Server, 'run')
    def test_main_creates_sqlite_schema_and_runs(self, run, log_setup):
        with mock.patch.dict(os.environ,
                             {'OS_DEFAULT__STATE_PATH': self.state_path}):
            self.assertEqual(0, api.main(['--config-file', self.config_file,
                                          '--bind', '127.0.0.1:0']))
        run.assert_called_once_with()
        self.assertEqual(migration.head(), migration.version())
