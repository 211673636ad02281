"""Tests of store/swift_connection.py against a scripted HTTP server on loopback.

The server answers each request with the next entry of a script, so that 5xx answers,
refused tokens, dropped connections and keystone catalogs happen on cue; the retry
backoff sleeps through a patched ``_sleep``.
"""

import http.server
import json
import threading

import fixtures
from keystoneauth1 import fixture as ks_fixture

from imageapi.common import exception
from imageapi.store import swift
from imageapi.store import swift_connection
from imageapi.tests import base

TOKEN_ID = 'tok-1'
ACCOUNT = '/v1/AUTH_test'
IMAGE_ID = '6bbe7cc2-eae7-4c0f-b50d-a7160b0c6a86'


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        self.server.requests.append(
            (self.command, self.path, dict(self.headers), body))
        if not self.path.startswith(('/auth/', '/v3')):
            self.server.ports.append(self.client_address[1])
        answer = self.server.script(self)
        if answer is None:
            # A connection dropped without an answer.
            self.close_connection = True
            return
        status, headers, body = answer
        self.send_response(status)
        headers = dict({'Content-Length': str(len(body))}, **headers)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)
        if int(headers['Content-Length']) != len(body):
            # A body that breaks off.
            self.close_connection = True

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


class StubServer(fixtures.Fixture):
    """A loopback HTTP server answering with ``script(handler)``."""

    def __init__(self, script):
        super().__init__()
        self.script = script

    def _setUp(self):
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        server.daemon_threads = True
        server.requests = []
        server.ports = []
        server.script = self.script
        self.requests = server.requests
        self.ports = server.ports
        self.url = 'http://127.0.0.1:%d' % server.server_port
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={'poll_interval': 0.05})
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)


class Tempauth:
    """A script: tempauth at /auth/v1.0, then ``answers`` one by one."""

    def __init__(self, answers, expires=86400):
        self.answers = list(answers)
        self.logins = 0
        self.expires = expires
        self.url = None

    def __call__(self, handler):
        if handler.path == '/auth/v1.0':
            self.logins += 1
            return 200, {'X-Auth-Token': 'tok-%d' % self.logins,
                         'X-Storage-Url': self.url + ACCOUNT,
                         'X-Auth-Token-Expires': str(self.expires)}, b''
        answer = self.answers.pop(0)
        return answer(handler) if callable(answer) else answer


class StubSwiftTestCase(base.TestCase):
    """A tempauth stub Swift per test, and no real sleeping."""

    def setUp(self):
        super().setUp()
        self.sleeps = []
        self.useFixture(fixtures.MonkeyPatch(
            'imageapi.store.swift_connection._sleep', self.sleeps.append))

    def connect(self, answers, **options):
        """A SwiftConnection to a tempauth stub answering ``answers``."""
        script = Tempauth(answers)
        self.server = self.useFixture(StubServer(script))
        script.url = self.server.url
        options = dict({'swift_store_auth_version': '1',
                        'swift_store_auth_address':
                            self.server.url + '/auth/v1.0',
                        'swift_store_user': 'test:tester',
                        'swift_store_key': 'testing'}, **options)
        self.flags(group='swift_store', **options)
        swift = swift_connection.SwiftConnection(self.conf.swift_store)
        self.addCleanup(swift.close)
        return swift, script

    def swift_requests(self):
        """(method, path, token) of the requests after authentication."""
        return [(method, path, headers.get('X-Auth-Token'))
                for method, path, headers, _body in self.server.requests
                if path != '/auth/v1.0']


class ConnectionTestCase(StubSwiftTestCase):

    def test_request_idempotent_5xx_retried_with_backoff(self):
        swift, _script = self.connect([(503, {}, b''), (500, {}, b''),
                                       (204, {}, b'')])

        response = swift.request('HEAD', 'c', 'o')

        self.assertEqual(204, response.status)
        self.assertEqual(3, len(self.swift_requests()))
        self.assertEqual([0.5, 1.0], self.sleeps)

    def test_request_retries_exhausted_returns_last_answer(self):
        swift, _script = self.connect([(503, {}, b'')] * 3,
                                      swift_store_retries=2)

        self.assertEqual(503, swift.request('GET', 'c').status)
        self.assertEqual(3, len(self.swift_requests()))

    def test_request_507_not_retried(self):
        swift, _script = self.connect([(507, {}, b'')])

        self.assertEqual(507, swift.request('DELETE', 'c', 'o').status)
        self.assertEqual([], self.sleeps)

    def test_request_not_idempotent_sent_once(self):
        swift, _script = self.connect([(503, {}, b'')])

        response = swift.request('PUT', 'c', 'o', body=b'[]',
                                 idempotent=False)

        self.assertEqual(503, response.status)
        self.assertEqual([('PUT', ACCOUNT + '/c/o', 'tok-1')],
                         self.swift_requests())

    def test_request_401_logs_in_again_once(self):
        swift, script = self.connect([(401, {}, b''), (204, {}, b''),
                                      (401, {}, b''), (401, {}, b'')])

        self.assertEqual(204, swift.request('HEAD', 'c', 'o').status)
        self.assertEqual(401, swift.request('HEAD', 'c', 'o').status)

        self.assertEqual(['tok-1', 'tok-2', 'tok-2', 'tok-3'],
                         [token for _m, _p, token in self.swift_requests()])
        self.assertEqual(3, script.logins)

    def test_request_dropped_connection_retried(self):
        swift, _script = self.connect([lambda handler: None, (200, {}, b'')])

        self.assertEqual(200, swift.request('GET', 'c').status)
        self.assertEqual([0.5], self.sleeps)

    def test_request_dropped_connection_not_idempotent_raises(self):
        swift, _script = self.connect([lambda handler: None])

        self.assertRaises(exception.BackendUnavailable, swift.request,
                          'PUT', 'c', 'o', body=b'', idempotent=False)
        self.assertEqual(1, len(self.swift_requests()))

    def test_request_connections_reused(self):
        swift, _script = self.connect([(204, {}, b'')] * 3)

        for _ in range(3):
            swift.request('HEAD', 'c', 'o')

        # Client ports of the requests to the account: one connection.
        self.assertEqual(1, len(set(self.server.ports)))

    def test_request_quotes_names_and_query(self):
        swift, _script = self.connect([(200, {}, b'[]')])

        swift.request('GET', 'my container',
                      query={'prefix': 'a b', 'format': 'json'})

        self.assertEqual(
            [('GET', ACCOUNT + '/my%20container?prefix=a+b&format=json',
              'tok-1')], self.swift_requests())

    def test_login_refused_raises_backend_unavailable(self):
        def refuse(handler):
            return 401, {}, b''

        self.server = self.useFixture(StubServer(refuse))
        self.flags(group='swift_store', swift_store_auth_version='1',
                   swift_store_auth_address=self.server.url + '/auth/v1.0')
        swift = swift_connection.SwiftConnection(self.conf.swift_store)
        self.addCleanup(swift.close)

        error = self.assertRaises(exception.BackendUnavailable,
                                  swift.request, 'HEAD', 'c', 'o')
        self.assertIn('401', str(error))

    def test_endpoint_option_replaces_storage_url(self):
        swift, _script = self.connect([(204, {}, b'')])
        self.flags(group='swift_store',
                   swift_store_endpoint=self.server.url + '/v1/AUTH_other')
        swift = swift_connection.SwiftConnection(self.conf.swift_store)
        self.addCleanup(swift.close)

        swift.request('HEAD', 'c')

        self.assertEqual([('HEAD', '/v1/AUTH_other/c', 'tok-1')],
                         self.swift_requests())


class DownloadResumeTestCase(StubSwiftTestCase):
    """A download whose body breaks off: resumed with a ranged GET, or failed."""

    data = bytes(range(100))

    def get(self, answers, retry_get_count):
        _swift, _script = self.connect(
            answers, swift_store_retry_get_count=retry_get_count,
            swift_store_container='images')
        driver = swift.SwiftDriver(self.conf)
        self.addCleanup(driver.close)
        chunks = driver.get('swift+config://ref1/images/%s' % IMAGE_ID)
        self.addCleanup(chunks.close)
        return chunks

    def test_get_broken_body_resumed_from_where_it_stopped(self):
        chunks = self.get([(200, {'Content-Length': '100'}, self.data[:40]),
                           (206, {}, self.data[40:])], retry_get_count=1)

        self.assertEqual(self.data, b''.join(chunks))
        ranges = [headers.get('Range') for method, _p, headers, _b
                  in self.server.requests if method == 'GET'
                  and _p.startswith(ACCOUNT)]
        self.assertEqual([None, 'bytes=40-99'], ranges)

    def test_get_broken_body_without_retries_raises(self):
        chunks = self.get([(200, {'Content-Length': '100'}, self.data[:40])],
                          retry_get_count=0)

        self.assertRaises(exception.BackendUnavailable, b''.join, chunks)

    def test_get_broken_body_retries_used_up_raises(self):
        chunks = self.get([(200, {'Content-Length': '100'}, self.data[:40]),
                           (206, {'Content-Length': '60'}, self.data[40:50])],
                          retry_get_count=1)

        self.assertRaises(exception.BackendUnavailable, b''.join, chunks)


class KeystoneTestCase(base.TestCase):
    """Version 3: the token and the endpoint come from a keystone catalog."""

    def setUp(self):
        super().setUp()
        self.server = self.useFixture(StubServer(self.answer))
        token = ks_fixture.V3Token(project_name='images',
                                   project_domain_id='default')
        for region, interface, account in (
                ('RegionOne', 'public', 'R1_PUBLIC'),
                ('RegionTwo', 'public', 'R2_PUBLIC'),
                ('RegionTwo', 'internal', 'R2_INTERNAL')):
            service = token.add_service('object-store')
            service.add_endpoint(interface,
                                 '%s/v1/%s' % (self.server.url, account),
                                 region=region)
        self.token_body = json.dumps(token).encode('utf-8')
        self.flags(group='swift_store', swift_store_auth_version='3',
                   swift_store_auth_address=self.server.url + '/v3',
                   swift_store_user='images:glance', swift_store_key='pw')

    def answer(self, handler):
        if handler.path == '/v3/auth/tokens':
            return 201, {'X-Subject-Token': TOKEN_ID,
                         'Content-Type': 'application/json'}, self.token_body
        return 204, {}, b''

    def request_head(self):
        swift = swift_connection.SwiftConnection(self.conf.swift_store)
        self.addCleanup(swift.close)
        swift.request('HEAD', 'c')
        return [(path, headers.get('X-Auth-Token'))
                for method, path, headers, _b in self.server.requests
                if method == 'HEAD']

    def auth_request(self):
        bodies = [body for _m, path, _h, body in self.server.requests
                  if path == '/v3/auth/tokens']
        return json.loads(bodies[0])['auth']

    def test_keystone_region_and_interface_pick_endpoint(self):
        self.flags(group='swift_store', swift_store_region='RegionTwo',
                   swift_store_endpoint_type='internalURL')

        self.assertEqual([('/v1/R2_INTERNAL/c', TOKEN_ID)],
                         self.request_head())

    def test_keystone_glance_user_form_names_project(self):
        self.flags(group='swift_store', swift_store_region='RegionOne')

        self.assertEqual([('/v1/R1_PUBLIC/c', TOKEN_ID)],
                         self.request_head())
        auth = self.auth_request()
        user = auth['identity']['password']['user']
        self.assertEqual(('glance', 'pw', {'id': 'default'}),
                         (user['name'], user['password'], user['domain']))
        self.assertEqual({'name': 'images', 'domain': {'id': 'default'}},
                         auth['scope']['project'])

    def test_keystone_project_and_domain_options(self):
        self.flags(group='swift_store', swift_store_region='RegionOne',
                   swift_store_user='glance', swift_store_project_id='p-1',
                   swift_store_user_domain_name='Users')

        self.request_head()

        auth = self.auth_request()
        self.assertEqual({'name': 'Users'},
                         auth['identity']['password']['user']['domain'])
        self.assertEqual({'id': 'p-1'}, auth['scope']['project'])

    def test_keystone_no_matching_endpoint_raises_unavailable(self):
        self.flags(group='swift_store', swift_store_region='RegionThree')

        error = self.assertRaises(exception.BackendUnavailable,
                                  self.request_head)
        self.assertIn('object-store', str(error))
