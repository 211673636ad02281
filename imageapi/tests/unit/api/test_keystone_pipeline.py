"""The imageapi-keystone paste pipeline with the real auth_token middleware.

keystonemiddleware's own AuthTokenFixture stands in for the token validation call; the
real-keystone tests live in the keystone functional environment.
"""

import logging
import uuid

from keystonemiddleware import auth_token
from keystonemiddleware import fixture as ksm_fixture
from oslo_context import context as oslo_context
import webob

from imageapi.tests import base
from imageapi.tests import fixtures

PROJECT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'


class TestKeystonePipeline(base.TestCase):

    def setUp(self):
        super().setUp()
        for group, opts in auth_token.list_opts():
            self.conf.register_opts(opts, group=group)
        self.flags(flavor='keystone', group='paste_deploy')
        self.flags(www_authenticate_uri='http://keystone.test/identity',
                   group='keystone_authtoken')
        self.flags(reap_interval=0, group='upload')
        self.useFixture(fixtures.Database())
        self.auth = self.useFixture(ksm_fixture.AuthTokenFixture())
        self.app = self.load_paste_app()

    def get(self, path, token=None, headers=None):
        req = webob.Request.blank(path)
        if token:
            req.headers['X-Auth-Token'] = token
        for name, value in (headers or {}).items():
            req.headers[name] = value
        return req.get_response(self.app)

    def member_token(self, roles=('member', 'reader')):
        # add_token_data() does not return the id it makes up: pass one.
        token = uuid.uuid4().hex
        self.auth.add_token_data(token_id=token, project_id=PROJECT,
                                 user_id='u1', role_list=list(roles))
        return token

    def test_forwarded_headers_used_when_enabled(self):
        self.flags(enable_proxy_headers_parsing=True,
                   group='oslo_middleware')
        self.app = self.load_paste_app()

        resp = self.get('/versions',
                        headers={'X-Forwarded-Proto': 'https',
                                 'X-Forwarded-Host': 'images.example.org'})

        self.assertIn('https://images.example.org/v2/',
                      [link['href'] for version in resp.json['versions']
                       for link in version['links']])

    def test_cors_preflight_answered(self):
        self.flags(allowed_origin=['https://dash.example.org'], group='cors')
        self.app = self.load_paste_app()
        req = webob.Request.blank('/v2/images', method='OPTIONS', headers={
            'Origin': 'https://dash.example.org',
            'Access-Control-Request-Method': 'GET'})

        resp = req.get_response(self.app)

        self.assertEqual('https://dash.example.org',
                         resp.headers.get('Access-Control-Allow-Origin'))

    def test_access_line_carries_token_user_and_project(self):
        records = []

        class Recorder(logging.Handler):
            def emit(self, record):
                records.append(record)
        handler = Recorder()
        logger = logging.getLogger('imageapi.access')
        logger.addHandler(handler)
        self.addCleanup(logger.removeHandler, handler)
        self.addCleanup(logger.setLevel, logger.level)
        logger.setLevel(logging.INFO)

        resp = self.get('/v2/images?limit=1', token=self.member_token())
        self.assertEqual([], records)  # written once the body is sent
        body = resp.body  # as a server sends it, then closes the body

        self.assertEqual(200, resp.status_int)
        self.assertEqual(1, len(records))
        ctx = records[0].context
        self.assertEqual(
            (resp.headers['x-openstack-request-id'], 'u1', PROJECT),
            (ctx.request_id, ctx.user_id, ctx.project_id))
        self.assertIn('"GET /v2/images?limit=1" status: 200 len_in: 0 '
                      'len_out: %d ' % len(body), records[0].getMessage())

    def test_versions_without_token_300(self):
        self.assertEqual(300, self.get('/').status_int)

    def test_images_without_token_401_with_www_authenticate(self):
        resp = self.get('/v2/images')
        self.assertEqual(401, resp.status_int)
        self.assertIn('Keystone uri="http://keystone.test/identity"',
                      resp.headers['WWW-Authenticate'])

    def test_images_with_bad_token_401(self):
        resp = self.get('/v2/images', token='not-a-token')
        self.assertEqual(401, resp.status_int)

    def test_images_with_valid_token_200(self):
        resp = self.get('/v2/images', token=self.member_token())
        self.assertEqual(200, resp.status_int)
        self.assertIn('x-openstack-request-id', resp.headers)

    def test_create_owner_is_token_project(self):
        req = webob.Request.blank('/v2/images', method='POST')
        req.headers['X-Auth-Token'] = self.member_token()
        req.json = {'name': 'n'}
        req.content_type = 'application/json'
        resp = req.get_response(self.app)
        self.assertEqual(201, resp.status_int)
        self.assertEqual(PROJECT, resp.json['owner'])

    def test_client_identity_headers_not_trusted(self):
        req = webob.Request.blank('/v2/images', method='POST')
        req.headers['X-Auth-Token'] = self.member_token()
        req.headers['X-Project-Id'] = 'forged-project'
        req.headers['X-Roles'] = 'admin'
        req.json = {'name': 'n', 'visibility': 'public'}
        req.content_type = 'application/json'
        resp = req.get_response(self.app)
        self.assertEqual(403, resp.status_int)

    def test_forged_identity_status_without_token_401(self):
        resp = self.get('/v2/images', headers={
            'X-Identity-Status': 'Confirmed', 'X-Project-Id': PROJECT,
            'X-Roles': 'admin'})
        self.assertEqual(401, resp.status_int)

    def test_reader_token_may_list_not_create(self):
        token = self.member_token(roles=('reader',))
        req = webob.Request.blank('/v2/images', method='POST')
        req.headers['X-Auth-Token'] = token
        req.json = {'name': 'n'}
        req.content_type = 'application/json'

        self.assertEqual(200, self.get('/v2/images', token=token).status_int)
        self.assertEqual(403, req.get_response(self.app).status_int)

    def test_admin_role_token_sees_other_projects_private_image(self):
        req = webob.Request.blank('/v2/images', method='POST')
        req.headers['X-Auth-Token'] = self.member_token()
        req.json = {'name': 'n', 'visibility': 'private'}
        req.content_type = 'application/json'
        image_id = req.get_response(self.app).json['id']
        admin = uuid.uuid4().hex
        self.auth.add_token_data(token_id=admin, project_id='other',
                                 user_id='u2', role_list=['admin'])

        resp = self.get('/v2/images/%s' % image_id, token=admin)

        self.assertEqual(200, resp.status_int)

    def test_failed_auth_logged_with_own_request_id_and_no_identity(self):
        # The log line's context is the thread's current one (oslo.log).
        # With the fixture auth_token says "Invalid user token"; against a
        # real keystone also "Authorization failed for token", in the same
        # place of the same request.
        seen = record_contexts(self, 'keystonemiddleware.auth_token',
                               'Invalid user token')
        for _ in range(3):
            self.assertEqual(200, self.get('/v2/images',
                                           token=self.member_token())
                             .status_int)

        resp = self.get('/v2/images', token='bogus-token')

        self.assertEqual(401, resp.status_int)
        self.assertEqual(1, len(seen))
        self.assertEqual(resp.headers['x-openstack-request-id'],
                         seen[0].request_id)
        self.assertIsNone(seen[0].user_id)
        self.assertIsNone(seen[0].project_id)

    def test_request_end_drops_identity_from_thread(self):
        resp = self.get('/v2/images', token=self.member_token())

        current = oslo_context.get_current()
        self.assertEqual(resp.headers['x-openstack-request-id'],
                         current.request_id)
        self.assertIsNone(current.user_id)
        self.assertIsNone(current.project_id)


def record_contexts(test, logger_name, text, level=logging.DEBUG):
    """Contexts current when ``logger_name`` logs a line containing ``text``.

    The logger's level is lowered to ``level`` for the test: how the test
    runner configured logging (OS_LOG_CAPTURE, OS_DEBUG) must not decide.
    """
    seen = []

    class Recorder(logging.Handler):
        def emit(self, record):
            if text in record.getMessage():
                seen.append(oslo_context.get_current())
    handler = Recorder()
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    test.addCleanup(logger.removeHandler, handler)
    test.addCleanup(logger.setLevel, logger.level)
    logger.setLevel(level)
    return seen


class TestNoAuthLogContext(base.TestCase):

    def setUp(self):
        super().setUp()
        self.flags(flavor='noauth', group='paste_deploy')
        self.flags(reap_interval=0, group='upload')
        self.useFixture(fixtures.Database())
        self.app = self.load_paste_app()

    def test_each_request_logs_with_its_own_id_and_identity(self):
        seen = record_contexts(self, 'oslo_policy.policy', 'enforce')
        ids = []
        for user in ('first-user', 'second-user'):
            req = webob.Request.blank('/v2/images')
            req.headers.update({'X-User-Id': user, 'X-Project-Id': PROJECT,
                                'X-Roles': 'member'})
            resp = req.get_response(self.app)
            self.assertEqual(200, resp.status_int)
            ids.append(resp.headers['x-openstack-request-id'])

        last = seen[-1]
        self.assertEqual('second-user', last.user_id)
        self.assertEqual(ids[1], last.request_id)
