"""APITestCase: the real paste pipeline over an in-memory database and a temp store.

API tests (images, tags, schemas, uploads, middleware) subclass it and talk HTTP to
``load_paste_app`` with ``webob.Request.blank``; identity comes from the noauth headers.
Mix ``PostgreSQLMixin`` or ``MySQLMixin`` in front to run them on a throwaway
PostgreSQL or MariaDB database instead.
"""

import io
import json
import os

import fixtures as pyfixtures
from oslo_db.sqlalchemy import test_fixtures
from oslo_utils import uuidutils
import webob

from imageapi.api.v2 import patch
from imageapi.common import streams
from imageapi import context
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi import store
from imageapi.tests import base
from imageapi.tests import fixtures

PROJECT_A = 'a1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6'
PROJECT_B = 'b1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6'
ADMIN_PROJECT = 'ad1e3f4a5b6c7d8e9f0a1b2c3d4e5f6a'
USER_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00'

JSON = 'application/json'
PATCH_V21 = patch.V21
PATCH_V20 = patch.V20

_NO_BODY = object()


class _OtherDatabaseMixin(test_fixtures.OpportunisticDBTestMixin):
    """Runs an APITestCase on the database oslo.db provisions for it.

    Its fixture is in place before APITestCase.setUp; without the server
    the test skips, or fails when IMAGEAPI_TEST_REQUIRE_DB_BACKENDS is set.
    """

    SKIP_ON_UNAVAILABLE_DB = not fixtures.REQUIRE_BACKENDS

    def use_database(self):
        pass


class PostgreSQLMixin(_OtherDatabaseMixin):
    FIXTURE = fixtures.PostgreSQLDatabase


class MySQLMixin(_OtherDatabaseMixin):
    FIXTURE = fixtures.MySQLDatabase


class APITestCase(base.TestCase):
    """Serves the noauth pipeline of etc/imageapi-paste.ini in-process.

    Requests default to a non-admin member of PROJECT_A; pass
    ``project=`` and ``admin=True`` to change who calls.
    """

    def setUp(self):
        super().setUp()
        self.datadir = os.path.join(self.state_path, 'images')
        self.flags(datadir=self.datadir, group='filesystem_store')
        self.flags(flavor='noauth', group='paste_deploy')
        # No lease reaper thread: it would share the in-memory database's
        # single connection with the test and interleave transactions.
        self.flags(reap_interval=0, group='upload')
        self.use_database()
        self.app = self.load_app()
        self.driver = store.get_driver(self.conf)

    def use_database(self):
        """An in-memory SQLite database behind db.api, for this test."""
        self.useFixture(fixtures.Database())

    def load_app(self):
        """Load the paste app again, e.g. after changing options."""
        return self.load_paste_app()

    # ------------------------------------------------------------ identity
    @staticmethod
    def identity_headers(project=PROJECT_A, admin=False):
        """noauth headers: X-Roles without 'admin' makes a non-admin."""
        headers = {'X-Roles': 'admin,member' if admin else 'member',
                   'X-User-Id': USER_ID}
        if project is not None:
            headers['X-Project-Id'] = project
        return headers

    @staticmethod
    def context(project=PROJECT_A, admin=False):
        """A RequestContext for calling the db/ repository directly."""
        return context.RequestContext(
            user_id=USER_ID, project_id=project,
            roles=['admin'] if admin else ['member'], is_admin=admin,
            overwrite=False)

    # ------------------------------------------------------------ requests
    def api_request(self, method, path, body=_NO_BODY, json_body=_NO_BODY,
                    content_type=None, project=PROJECT_A, admin=False,
                    headers=None, app=None):
        """Send one request through the whole pipeline.

        :param body: raw bytes to send.
        :param json_body: an object sent as JSON (Content-Type defaults to
            application/json).
        :returns: the webob Response.
        """
        # As openstacksdk and the glance CLI's JSON consumers ask; faults
        # come as JSON then (see test_fault for the other formats).
        all_headers = {'Accept': JSON}
        all_headers.update(self.identity_headers(project=project, admin=admin))
        all_headers.update(headers or {})
        req = webob.Request.blank(path, method=method, headers=all_headers)
        if json_body is not _NO_BODY:
            body = json.dumps(json_body).encode('utf-8')
            content_type = content_type or JSON
        if body is not _NO_BODY:
            req.body = body
        if content_type is not None:
            req.content_type = content_type
        return req.get_response(app or self.app)

    def api_get(self, path, **kwargs):
        return self.api_request('GET', path, **kwargs)

    def api_post(self, path, json_body=_NO_BODY, **kwargs):
        return self.api_request('POST', path, json_body=json_body, **kwargs)

    def api_put(self, path, body=b'', **kwargs):
        return self.api_request('PUT', path, body=body, **kwargs)

    def api_delete(self, path, **kwargs):
        return self.api_request('DELETE', path, **kwargs)

    def api_patch(self, path, *changes, media_type=PATCH_V21, **kwargs):
        """PATCH with JSON-patch ``changes`` (dicts) as ``media_type``."""
        return self.api_request('PATCH', path, json_body=list(changes),
                                content_type=media_type, **kwargs)

    # ------------------------------------------------------------ images
    def create_image(self, expect=201, **fields):
        """POST /v2/images with ``fields``; returns the response body."""
        project = fields.pop('_project', PROJECT_A)
        admin = fields.pop('_admin', False)
        resp = self.api_post('/v2/images', json_body=fields, project=project,
                             admin=admin)
        self.assertEqual(expect, resp.status_int, resp.text)
        return resp.json

    def image_path(self, image_id):
        return '/v2/images/%s' % image_id

    def show_image(self, image_id, project=PROJECT_A, admin=True):
        resp = self.api_get(self.image_path(image_id), project=project,
                            admin=admin)
        self.assertEqual(200, resp.status_int, resp.text)
        return resp.json

    def activate_image(self, image_id, data=b'image data'):
        """Store ``data`` with the store driver and move queued -> active.

        Bypasses the upload controller so metadata tests do not depend on
        it; returns the repository dict.
        """
        with streams.UploadStream(io.BytesIO(data), 65536, 'sha512',
                                  size=len(data)) as stream:
            stored = self.driver.add(image_id, stream, len(data))
        values = {'size': stream.size, 'checksum': stream.checksum,
                  'os_hash_algo': stream.hash_algo,
                  'os_hash_value': stream.hash_value,
                  'location': {'url': stored.location, 'metadata': {}}}
        return db_images.image_transition(self.context(admin=True), image_id,
                                          db_api.QUEUED, db_api.ACTIVE,
                                          values=values)

    def freeze_time(self, when):
        """Make the clock read ``when`` (a naive UTC datetime) from now on.

        Model defaults and the db/ repository both call oslo_utils.timeutils.utcnow, so
        that is where the clock is patched. Set ``.return_value`` on the
        returned mock to move the clock.
        """
        return self.useFixture(pyfixtures.MockPatch(
            'oslo_utils.timeutils.utcnow', return_value=when)).mock

    @staticmethod
    def new_id():
        return uuidutils.generate_uuid()

    # ------------------------------------------------------------ asserts
    def assertFault(self, resp, code, message=None):
        """A JSON fault body with webob's fields, a request id, no traceback.

        :param message: if given, a substring the message must contain.
        :returns: the decoded body.
        """
        self.assertEqual(code, resp.status_int, resp.text)
        self.assertEqual(JSON, resp.content_type)
        body = resp.json
        self.assertEqual(str(code), body['code'].split()[0])
        self.assertIn('title', body)
        self.assertIsInstance(body['message'], str)
        self.assertNotIn('Traceback', resp.text)
        self.assertTrue(resp.headers.get('x-openstack-request-id'))
        if message is not None:
            self.assertIn(message, body['message'])
        return body
