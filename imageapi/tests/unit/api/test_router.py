"""Tests of the v2 URL map: routing, 404, 405 with Allow, 501, and the schema routes."""

import fixtures as pyfixtures
import jsonschema

from imageapi.api import router
from imageapi import service
from imageapi.tests.unit.api.v2 import base


class RouterTest(base.APITestCase):

    def test_routes_name_existing_controller_actions(self):
        api = router.API(self.conf, service.Service(self.conf))

        for path, methods in router.ROUTES:
            for method, (controller, action) in methods.items():
                self.assertTrue(
                    callable(getattr(api.controllers[controller], action,
                                     None)),
                    '%s %s -> %s.%s' % (method, path, controller, action))

    def test_unknown_path_returns_404(self):
        self.assertFault(self.api_get('/v2/nothing'), 404)

    def test_unknown_subpath_of_image_returns_404(self):
        image_id = self.create_image()['id']

        self.assertFault(self.api_get('/v2/images/%s/actions' % image_id), 404)

    def test_path_outside_v2_returns_404(self):
        self.assertFault(self.api_get('/nothing'), 404)

    def test_wrong_method_on_images_returns_405_with_allow(self):
        resp = self.api_put('/v2/images')

        self.assertFault(resp, 405, 'PUT')
        self.assertEqual('GET, POST', resp.headers['Allow'])

    def test_wrong_method_on_image_returns_405_with_allow(self):
        resp = self.api_post(self.image_path(self.new_id()), json_body={})

        self.assertFault(resp, 405)
        self.assertEqual('DELETE, GET, PATCH', resp.headers['Allow'])

    def test_wrong_method_on_image_file_returns_405_with_allow(self):
        resp = self.api_delete(self.image_path(self.new_id()) + '/file')

        self.assertFault(resp, 405)
        self.assertEqual('GET, PUT', resp.headers['Allow'])

    def test_wrong_method_on_tag_returns_405_with_allow(self):
        resp = self.api_get(self.image_path(self.new_id()) + '/tags/t')

        self.assertFault(resp, 405)
        self.assertEqual('DELETE, PUT', resp.headers['Allow'])

    def test_wrong_method_on_schema_returns_405_with_allow(self):
        resp = self.api_post('/v2/schemas/image', json_body={})

        self.assertFault(resp, 405)
        self.assertEqual('GET', resp.headers['Allow'])

    def test_wrong_method_does_not_touch_image(self):
        image_id = self.create_image(name='x')['id']

        self.api_request('PUT', self.image_path(image_id),
                         json_body={'name': 'y'})

        self.assertEqual('x', self.show_image(image_id)['name'])

    def _assert_request_id(self, resp, status):
        self.assertEqual(status, resp.status_int, resp.text)
        self.assertTrue(resp.headers['x-openstack-request-id'].startswith(
            'req-'))

    def test_list_response_has_request_id(self):
        self._assert_request_id(self.api_get('/v2/images'), 200)

    def test_create_response_has_request_id(self):
        self._assert_request_id(self.api_post('/v2/images', json_body={}),
                                201)

    def test_delete_response_has_request_id(self):
        image_id = self.create_image()['id']

        self._assert_request_id(self.api_delete(self.image_path(image_id)),
                                204)

    def test_each_response_has_its_own_request_id(self):
        first = self.api_get('/v2/images').headers['x-openstack-request-id']
        second = self.api_get('/v2/images').headers['x-openstack-request-id']

        self.assertNotEqual(first, second)

    def test_unknown_verb_returns_501(self):
        resp = self.api_request('BREW', '/v2/images')

        self.assertFault(resp, 501, 'BREW')

    def test_unknown_verb_on_unknown_path_returns_501(self):
        self.assertFault(self.api_request('BREW', '/v2/nothing'), 501)


# Percent-encoded bytes that are not UTF-8: a lone byte, an encoded
# surrogate (CESU-8) and an overlong '/'.
_NOT_UTF8 = ('%ff', '%ed%a0%80', '%c0%af')


class RouteArgumentTest(base.APITestCase):
    """What a client may put where ROUTES take an argument (image, namespace, ...)."""

    def _requests(self, bad):
        """(method, path) of every route, ``bad`` in each {argument} in turn.

        The other arguments are real: an image of the caller, a member.
        """
        resp = self.api_post('/v2/metadefs/namespaces', admin=True,
                             json_body={'namespace': 'OS::Route'})
        self.assertIn(resp.status_int, (201, 409), resp.text)
        values = {'image_id': self.create_image()['id'], 'tag': 't',
                  'member_id': base.PROJECT_B, 'store_id': 'fast',
                  'namespace': 'OS::Route', 'object_name': 'o',
                  'property_name': 'p', 'tag_name': 't',
                  'resource_type': 'OS::Glance::Image',
                  'task_id': '0e6b4a4e-1c2d-4f5e-8a9b-0c1d2e3f4a5b'}
        for path, methods in router.ROUTES:
            for name in values:
                if '{%s}' % name not in path:
                    continue
                bad_path = path.replace('{%s}' % name, bad)
                for method in methods:
                    yield method, bad_path.format(**values)

    def test_not_utf8_in_any_route_argument_returns_400_with_request_id(self):
        checked = 0
        for bad in _NOT_UTF8:
            for method, path in self._requests(bad):
                resp = self.api_request(method, path)

                body = self.assertFault(resp, 400)
                self.assertEqual('Bad Request', body['title'])
                self.assertEqual('The request path is not valid UTF-8.',
                                 body['message'], (method, path))
                self.assertEqual(resp.headers['x-openstack-request-id'],
                                 body['request_id'])
                checked += 1
        # Each method of the routes with arguments, once per argument: 22
        # for images, image actions, stage, import, image tasks and members,
        # 2 for stores, 2 for the cache, 36 for metadefs, 1 for tasks.
        self.assertEqual(len(_NOT_UTF8) * 63, checked)

    def test_not_utf8_outside_the_routes_returns_400(self):
        for path in ('/%ff', '/v2/%ff', '/v2.%ff/images', '/v1/%ff',
                     '/v2/schemas/%ff'):
            self.assertFault(self.api_get(path), 400, 'not valid UTF-8')

    def test_nul_in_any_route_argument_returns_400(self):
        for method, path in self._requests('a%00b'):
            self.assertFault(self.api_request(method, path), 400,
                             'The request path contains a NUL character')

    def test_not_utf8_path_is_not_logged_as_error(self):
        log = self.useFixture(pyfixtures.FakeLogger(
            name='imageapi.api.middleware.fault'))

        self.api_get('/v2/images/%ff')

        self.assertEqual('', log.output)

    def test_utf8_tag_in_path_reaches_the_image_as_text(self):
        image_id = self.create_image()['id']

        resp = self.api_put(self.image_path(image_id) + '/tags/caf%C3%A9')

        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual(['caf\u00e9'], self.show_image(image_id)['tags'])
        resp = self.api_delete(self.image_path(image_id) + '/tags/caf%C3%A9')
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual([], self.show_image(image_id)['tags'])


class SchemaRoutesTest(base.APITestCase):

    def test_get_image_schema_returns_200(self):
        resp = self.api_get('/v2/schemas/image')

        self.assertEqual(200, resp.status_int)
        self.assertEqual('image', resp.json['name'])

    def test_get_images_schema_returns_200(self):
        resp = self.api_get('/v2/schemas/images')

        self.assertEqual(200, resp.status_int)
        self.assertEqual('images', resp.json['name'])

    def test_image_schema_disk_formats_follow_config(self):
        self.flags(disk_formats=['raw', 'qcow2', 'xyz'], group='image_format')
        self.app = self.load_app()

        schema = self.api_get('/v2/schemas/image').json

        self.assertEqual([None, 'raw', 'qcow2', 'xyz'],
                         schema['properties']['disk_format']['enum'])

    def test_image_schema_container_formats_follow_config(self):
        self.flags(container_formats=['bare'], group='image_format')
        self.app = self.load_app()

        schema = self.api_get('/v2/schemas/image').json

        self.assertEqual([None, 'bare'],
                         schema['properties']['container_format']['enum'])

    def test_images_schema_items_follow_config(self):
        self.flags(disk_formats=['raw'], group='image_format')
        self.app = self.load_app()

        schema = self.api_get('/v2/schemas/images').json

        items = schema['properties']['images']['items']
        self.assertEqual([None, 'raw'],
                         items['properties']['disk_format']['enum'])

    def test_image_schema_validates_a_served_image(self):
        # glanceclient validates records it receives against this schema.
        image = self.create_image(name='x', foo='bar', tags=['t'],
                                  disk_format='raw', container_format='bare')
        schema = self.api_get('/v2/schemas/image').json

        jsonschema.validate(image, schema)

    def test_schema_responses_need_no_project(self):
        resp = self.api_get('/v2/schemas/image', project=None)

        self.assertEqual(200, resp.status_int)


class MetadefRoutesTest(base.APITestCase):

    def test_wrong_method_on_metadef_routes_returns_405_with_allow(self):
        ns = '/v2/metadefs/namespaces/OS::X'
        for method, path, allow in (
                ('PUT', '/v2/metadefs/namespaces', 'GET, POST'),
                ('POST', ns, 'DELETE, GET, PUT'),
                ('PUT', ns + '/objects', 'DELETE, GET, POST'),
                ('POST', ns + '/objects/o', 'DELETE, GET, PUT'),
                ('PUT', ns + '/properties', 'DELETE, GET, POST'),
                ('POST', ns + '/properties/p', 'DELETE, GET, PUT'),
                ('PUT', ns + '/tags', 'DELETE, GET, POST'),
                ('PATCH', ns + '/tags/t', 'DELETE, GET, POST, PUT'),
                ('DELETE', ns + '/resource_types', 'GET, POST'),
                ('GET', ns + '/resource_types/r', 'DELETE'),
                ('POST', '/v2/metadefs/resource_types', 'GET')):
            resp = self.api_request(method, path, admin=True)
            self.assertFault(resp, 405)
            self.assertEqual(allow, resp.headers['Allow'], path)

    def test_unknown_metadef_subpath_returns_404(self):
        self.assertFault(self.api_get(
            '/v2/metadefs/namespaces/OS::X/things'), 404)
