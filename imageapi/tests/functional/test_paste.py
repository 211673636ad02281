"""The real etc/imageapi-paste.ini pipelines, in process over a migrated database."""

import hashlib

from keystonemiddleware import auth_token
from keystonemiddleware import fixture as ksm_fixture
from oslo_utils import uuidutils

from imageapi.tests.functional import base

_DATA = b'in-process image data' * 50


class TestNoAuthPipeline(base.InProcessTestCase):

    def test_versions(self):
        response = self.api.get('/', status=300)
        self.assertIn('versions', response.json)
        self.assertIn('x-openstack-request-id', response.headers)

    def test_healthcheck(self):
        self.api.get('/healthcheck', status=200)

    def test_image_round_trip(self):
        image = self.api.post_json('/v2/images', {
            'name': 'in-process', 'disk_format': 'raw',
            'container_format': 'bare'}, status=201).json
        self.assertEqual('queued', image['status'])
        self.api.put('/v2/images/%s/file' % image['id'], _DATA,
                     headers={'Content-Type': 'application/octet-stream'},
                     status=204)
        shown = self.api.get('/v2/images/%s' % image['id']).json
        self.assertEqual('active', shown['status'])
        self.assertEqual(hashlib.sha512(_DATA).hexdigest(),
                         shown['os_hash_value'])
        body = self.api.get('/v2/images/%s/file' % image['id']).body
        self.assertEqual(_DATA, body)
        self.api.delete('/v2/images/%s' % image['id'], status=204)
        response = self.api.get('/v2/images/%s' % image['id'], status=404,
                                headers={'Accept': 'application/json'})
        self.assertEqual('application/json', response.content_type)
        self.assertIn('x-openstack-request-id', response.headers)

    def test_noauth_takes_project_from_headers(self):
        project = uuidutils.generate_uuid(dashed=False)
        image = self.api.post_json(
            '/v2/images', {'name': 'mine'},
            headers={'X-Project-Id': project, 'X-Roles': 'member'},
            status=201).json
        self.assertEqual(project, image['owner'])


class TestKeystonePipeline(base.InProcessTestCase):
    """authtoken runs for real; AuthTokenFixture stands in for keystone."""

    flavor = 'keystone'
    keystone_uri = 'http://keystone.invalid/identity'

    def setUp(self):
        self.auth = ksm_fixture.AuthTokenFixture()
        super().setUp()
        self.useFixture(self.auth)
        self.project_id = uuidutils.generate_uuid(dashed=False)
        self.token = uuidutils.generate_uuid(dashed=False)
        self.auth.add_token_data(token_id=self.token,
                                 project_id=self.project_id,
                                 role_list=['member', 'reader'])

    def load_app(self):
        # www_authenticate_uri goes into 401 responses; without it
        # auth_token would ask a keystone for it.
        for group, opts in auth_token.list_opts():
            self.conf.register_opts(opts, group=group)
        self.flags(www_authenticate_uri=self.keystone_uri,
                   group='keystone_authtoken')
        return super().load_app()

    def test_versions_need_no_token(self):
        self.api.get('/', status=300)

    def test_no_token_is_401(self):
        response = self.api.get('/v2/images', status=401)
        self.assertIn('x-openstack-request-id', response.headers)
        self.assertEqual('Keystone uri="%s"' % self.keystone_uri,
                         response.headers['WWW-Authenticate'])

    def test_unknown_token_is_401(self):
        self.api.get('/v2/images', headers={'X-Auth-Token': 'bogus'},
                     status=401)

    def test_token_gives_project_context(self):
        image = self.api.post_json(
            '/v2/images', {'name': 'with-token'},
            headers={'X-Auth-Token': self.token}, status=201).json
        self.assertEqual(self.project_id, image['owner'])
        listed = self.api.get('/v2/images',
                              headers={'X-Auth-Token': self.token}).json
        self.assertEqual([image['id']], [i['id'] for i in listed['images']])
