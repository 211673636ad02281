"""/v2/metadefs/resource_types and /v2/metadefs/namespaces/{namespace}/resource_types."""

from imageapi.tests.unit.api.v2 import base
from imageapi.tests.unit.api.v2.metadefs import base as md_base
from imageapi.tests.unit.api.v2.metadefs.base import ns_path

IMAGE = {'name': 'OS::Glance::Image', 'prefix': 'hw_',
         'properties_target': 'image'}


class ResourceTypesTest(md_base.MetadefsTestCase):

    def setUp(self):
        super().setUp()
        self.create_namespace('OS::N', visibility='public')
        self.path = ns_path('OS::N', 'resource_types')

    def associate(self, body=IMAGE, namespace_path=None):
        resp = self.api_post(namespace_path or self.path, json_body=body,
                             admin=True)
        self.assertEqual(201, resp.status_int, resp.text)
        return resp.json

    def test_associate_returns_201(self):
        body = self.associate()
        self.assertEqual(IMAGE, {k: body[k] for k in IMAGE})
        self.assertIn('created_at', body)

    def test_associate_creates_the_resource_type_once(self):
        self.associate()
        self.create_namespace('OS::M')
        self.associate(namespace_path=ns_path('OS::M', 'resource_types'))
        body = self.api_get('/v2/metadefs/resource_types').json
        self.assertEqual(['OS::Glance::Image'],
                         [t['name'] for t in body['resource_types']])

    def test_associate_twice_returns_409(self):
        self.associate()
        self.assertFault(self.api_post(self.path, json_body=IMAGE,
                                       admin=True), 409)

    def test_associate_bad_body_returns_400(self):
        for body in ({}, {'name': 'x' * 81}, {'name': 'a', 'prefix': 'x' * 81},
                     {'name': 'a', 'properties_target': 'x' * 81},
                     {'name': 'a', 'other': 1}, {'name': 1}, []):
            resp = self.api_post(self.path, json_body=body, admin=True)
            self.assertFault(resp, 400)

    def test_associate_read_only_key_returns_403(self):
        resp = self.api_post(self.path, json_body=dict(IMAGE,
                                                       updated_at='x'),
                             admin=True)
        self.assertFault(resp, 403)

    def test_associate_as_member_returns_403(self):
        self.assertFault(self.api_post(self.path, json_body=IMAGE), 403)

    def test_associate_invisible_namespace_returns_404(self):
        self.create_namespace('OS::Priv', project=base.PROJECT_B)
        resp = self.api_post(ns_path('OS::Priv', 'resource_types'),
                             json_body=IMAGE)
        self.assertFault(resp, 404)

    def test_list_associations(self):
        self.associate()
        body = self.api_get(self.path).json
        self.assertEqual(['OS::Glance::Image'], [
            a['name'] for a in body['resource_type_associations']])

    def test_list_associations_of_missing_namespace_returns_404(self):
        self.assertFault(self.api_get(ns_path('OS::None', 'resource_types')),
                         404)

    def test_list_resource_types_empty(self):
        body = self.api_get('/v2/metadefs/resource_types').json
        self.assertEqual({'resource_types': []}, body)

    def test_list_resource_types_without_reader_returns_403(self):
        resp = self.api_get('/v2/metadefs/resource_types',
                            headers={'X-Roles': 'observer'})
        self.assertFault(resp, 403)

    def test_dissociate_returns_204_and_keeps_resource_type(self):
        self.associate()
        resp = self.api_delete(self.path + '/OS::Glance::Image', admin=True)
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual([], self.api_get(self.path).json[
            'resource_type_associations'])
        body = self.api_get('/v2/metadefs/resource_types').json
        self.assertEqual(1, len(body['resource_types']))

    def test_dissociate_unknown_resource_type_returns_404(self):
        resp = self.api_delete(self.path + '/OS::None', admin=True)
        self.assertFault(resp, 404)

    def test_dissociate_not_associated_returns_404(self):
        self.create_namespace('OS::M', resource_type_associations=[IMAGE])
        resp = self.api_delete(self.path + '/OS::Glance::Image', admin=True)
        self.assertFault(resp, 404)

    def test_dissociate_in_protected_namespace_returns_403(self):
        self.create_namespace('OS::P', protected=True,
                              resource_type_associations=[IMAGE])
        resp = self.api_delete(ns_path('OS::P', 'resource_types',
                                       'OS::Glance::Image'), admin=True)
        self.assertFault(resp, 403)

    def test_dissociate_missing_in_protected_namespace_returns_404(self):
        self.create_namespace('OS::P', protected=True)
        resp = self.api_delete(ns_path('OS::P', 'resource_types',
                                       'OS::Glance::Image'), admin=True)
        self.assertFault(resp, 404)

    def test_dissociate_as_member_returns_403(self):
        self.associate()
        resp = self.api_delete(self.path + '/OS::Glance::Image')
        self.assertFault(resp, 403)
