"""Tests of version discovery and /v2.N rewriting, through the whole paste pipeline."""

from imageapi.api import versions
from imageapi.tests.unit.api.v2 import base


class VersionDocumentTest(base.APITestCase):

    def get(self, path, **kwargs):
        # No identity headers: versions answer before authentication.
        return self.api_request('GET', path, project=None, **kwargs)

    def test_get_root_returns_300(self):
        self.assertEqual(300, self.get('/').status_int)

    def test_get_root_returns_json(self):
        self.assertEqual('application/json', self.get('/').content_type)

    def test_get_root_lists_current_version_first(self):
        first = self.get('/').json['versions'][0]

        self.assertEqual('CURRENT', first['status'])
        self.assertEqual('v2.%d' % versions.CURRENT_MINOR, first['id'])

    def test_get_root_lists_exactly_one_current_version(self):
        statuses = [v['status'] for v in self.get('/').json['versions']]

        self.assertEqual(1, statuses.count('CURRENT'))
        self.assertEqual({'CURRENT', 'SUPPORTED'}, set(statuses))

    def test_get_root_lists_every_minor_down_to_v2_0(self):
        ids = [v['id'] for v in self.get('/').json['versions']]

        self.assertEqual(['v2.%d' % m
                          for m in range(versions.CURRENT_MINOR, -1, -1)],
                         ids)

    def test_get_root_links_point_to_v2_of_request_host(self):
        doc = self.get('/', headers={'Host': 'images.example.com:9292'}).json

        for version in doc['versions']:
            self.assertEqual(
                [{'rel': 'self',
                  'href': 'http://images.example.com:9292/v2/'}],
                version['links'])

    def test_get_versions_returns_200(self):
        # Glance answers /versions with 200 and / with 300.
        self.assertEqual(200, self.get('/versions').status_int)

    def test_get_versions_matches_root_document(self):
        self.assertEqual(self.get('/').json, self.get('/versions').json)

    def test_get_versions_with_trailing_slash_returns_200(self):
        self.assertEqual(200, self.get('/versions/').status_int)

    def test_head_root_returns_300(self):
        resp = self.api_request('HEAD', '/', project=None)

        self.assertEqual(300, resp.status_int)

    def test_get_v2_returns_v2_document(self):
        resp = self.get('/v2')

        self.assertEqual(200, resp.status_int)
        self.assertEqual({'version': {
            'id': 'v2.%d' % versions.CURRENT_MINOR, 'status': 'CURRENT',
            'links': [{'rel': 'self', 'href': 'http://localhost/v2/'}]}},
            resp.json)

    def test_get_v2_with_trailing_slash_returns_v2_document(self):
        self.assertEqual(self.get('/v2').json, self.get('/v2/').json)

    def test_post_root_returns_405_with_allow(self):
        resp = self.api_request('POST', '/', json_body={}, project=None)

        self.assertFault(resp, 405)
        self.assertEqual('GET, HEAD', resp.headers['Allow'])

    def test_delete_versions_returns_405_with_allow(self):
        resp = self.api_request('DELETE', '/versions', project=None)

        self.assertFault(resp, 405)
        self.assertEqual('GET, HEAD', resp.headers['Allow'])

    def test_version_responses_carry_request_id(self):
        for path in ('/', '/versions', '/v2'):
            self.assertTrue(
                self.get(path).headers.get('x-openstack-request-id'), path)


class VersionRewriteTest(base.APITestCase):

    def test_get_v2_minor_images_lists_images(self):
        image_id = self.create_image()['id']

        resp = self.api_get('/v2.1/images')

        self.assertEqual(200, resp.status_int)
        self.assertEqual([image_id], [i['id'] for i in resp.json['images']])

    def test_get_v2_minor_image_shows_image(self):
        image = self.create_image()
        path = '/v2.%d/images/%s' % (versions.CURRENT_MINOR, image['id'])

        resp = self.api_get(path)

        self.assertEqual(image, resp.json)

    def test_post_v2_minor_images_creates_image(self):
        resp = self.api_post('/v2.0/images', json_body={'name': 'x'})

        self.assertEqual(201, resp.status_int)
        self.assertTrue(resp.location.endswith(resp.json['self']))

    def test_patch_v2_minor_image_updates_image(self):
        image_id = self.create_image()['id']

        resp = self.api_patch('/v2.1/images/%s' % image_id,
                              {'op': 'add', 'path': '/name', 'value': 'x'})

        self.assertEqual('x', resp.json['name'])

    def test_get_v2_minor_returns_v2_document(self):
        resp = self.api_get('/v2.1')

        self.assertEqual(200, resp.status_int)
        self.assertIn('version', resp.json)

    def test_get_unsupported_minor_returns_versions_300(self):
        # Glance answers an unknown version with the version list.
        resp = self.api_get('/v2.%d/images' % (versions.CURRENT_MINOR + 1))

        self.assertEqual(300, resp.status_int)
        self.assertIn('versions', resp.json)

    def test_get_unknown_major_returns_versions_300(self):
        resp = self.api_get('/v1/images')

        self.assertEqual(300, resp.status_int)
        self.assertIn('versions', resp.json)

    def test_get_v2_prefix_of_other_word_is_not_rewritten(self):
        self.assertFault(self.api_get('/v2images'), 404)
