"""/v2/metadefs/namespaces/{namespace}/objects[/{object_name}]."""

from imageapi.tests.unit.api.v2 import base
from imageapi.tests.unit.api.v2.metadefs import base as md_base
from imageapi.tests.unit.api.v2.metadefs.base import ns_path

CORES = {'title': 'Cores', 'type': 'integer', 'minimum': 1}
TOPOLOGY = {'name': 'Topology', 'description': 'CPU layout',
            'required': ['cores'], 'properties': {'cores': CORES}}


class ObjectsTest(md_base.MetadefsTestCase):

    def setUp(self):
        super().setUp()
        self.create_namespace('OS::N', visibility='public')
        self.path = ns_path('OS::N', 'objects')

    def create_object(self, body=TOPOLOGY, expect=201):
        resp = self.api_post(self.path, json_body=body, admin=True)
        self.assertEqual(expect, resp.status_int, resp.text)
        return resp.json

    def test_create_returns_201_with_the_object(self):
        body = self.create_object()
        self.assertEqual('Topology', body['name'])
        self.assertEqual('CPU layout', body['description'])
        self.assertEqual(['cores'], body['required'])
        self.assertEqual({'cores': CORES}, body['properties'])
        self.assertEqual(self.path + '/Topology', body['self'])
        self.assertEqual('/v2/schemas/metadefs/object', body['schema'])

    def test_create_minimal_has_empty_properties(self):
        body = self.create_object({'name': 'Bare'})
        self.assertEqual({}, body['properties'])
        self.assertNotIn('required', body)
        self.assertNotIn('description', body)

    def test_create_duplicate_returns_409(self):
        self.create_object()
        self.assertFault(self.api_post(self.path, json_body=TOPOLOGY,
                                       admin=True), 409)

    def test_same_name_in_two_namespaces_is_allowed(self):
        self.create_object()
        self.create_namespace('OS::Other')
        resp = self.api_post(ns_path('OS::Other', 'objects'),
                             json_body=TOPOLOGY, admin=True)
        self.assertEqual(201, resp.status_int, resp.text)

    def test_create_bad_body_returns_400(self):
        for body in ({}, {'name': 'x' * 81}, {'name': 'o', 'x': 1},
                     {'name': 'o', 'required': 'cores'},
                     {'name': 'o', 'required': ['a', 'a']},
                     {'name': 'o', 'properties': {'p': {'type': 'string'}}},
                     {'name': 'o', 'properties': {'p': []}},
                     {'name': 'o', 'properties': {
                         'p': dict(CORES, unknown=1)}},
                     {'name': 'o', 'description': 'x' * 70000}, []):
            resp = self.api_post(self.path, json_body=body, admin=True)
            self.assertFault(resp, 400)

    def test_create_read_only_key_returns_403(self):
        resp = self.api_post(self.path, json_body=dict(TOPOLOGY, self='x'),
                             admin=True)
        self.assertFault(resp, 403)

    def test_create_as_member_returns_403(self):
        resp = self.api_post(self.path, json_body=TOPOLOGY)
        self.assertFault(resp, 403)

    def test_create_in_invisible_namespace_returns_404(self):
        self.create_namespace('OS::Priv', project=base.PROJECT_B)
        resp = self.api_post(ns_path('OS::Priv', 'objects'),
                             json_body=TOPOLOGY)
        self.assertFault(resp, 404)

    def test_index_lists_objects(self):
        self.create_object()
        self.create_object({'name': 'Other'})
        body = self.api_get(self.path).json
        self.assertEqual(['Topology', 'Other'],
                         [o['name'] for o in body['objects']])
        self.assertEqual('v2/schemas/metadefs/objects', body['schema'])

    def test_index_of_missing_namespace_returns_404(self):
        self.assertFault(self.api_get(ns_path('OS::None', 'objects')), 404)

    def test_show_returns_object(self):
        self.create_object()
        body = self.api_get(self.path + '/Topology').json
        self.assertEqual(['cores'], body['required'])

    def test_show_missing_returns_404(self):
        self.assertFault(self.api_get(self.path + '/None'), 404, 'None')

    def test_update_replaces_object(self):
        self.create_object()
        resp = self.api_request('PUT', self.path + '/Topology', json_body={
            'name': 'Layout', 'properties': {}}, admin=True)
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual('Layout', resp.json['name'])
        self.assertNotIn('required', resp.json)
        self.assertFault(self.api_get(self.path + '/Topology'), 404)

    def test_update_to_taken_name_returns_409(self):
        self.create_object()
        self.create_object({'name': 'Other'})
        resp = self.api_request('PUT', self.path + '/Other',
                                json_body={'name': 'Topology'}, admin=True)
        self.assertFault(resp, 409)

    def test_update_missing_returns_404(self):
        resp = self.api_request('PUT', self.path + '/None',
                                json_body={'name': 'x'}, admin=True)
        self.assertFault(resp, 404)

    def test_update_as_member_returns_403(self):
        self.create_object()
        resp = self.api_request('PUT', self.path + '/Topology',
                                json_body={'name': 'x'})
        self.assertFault(resp, 403)

    def test_update_bad_body_returns_400(self):
        self.create_object()
        resp = self.api_request('PUT', self.path + '/Topology',
                                json_body={'name': 1}, admin=True)
        self.assertFault(resp, 400)

    def test_delete_removes_object(self):
        self.create_object()
        resp = self.api_delete(self.path + '/Topology', admin=True)
        self.assertEqual(204, resp.status_int)
        self.assertFault(self.api_get(self.path + '/Topology'), 404)

    def test_delete_missing_returns_404(self):
        self.assertFault(self.api_delete(self.path + '/None', admin=True),
                         404)

    def test_delete_in_protected_namespace_returns_403(self):
        self.create_namespace('OS::P', protected=True,
                              objects=[TOPOLOGY])
        resp = self.api_delete(ns_path('OS::P', 'objects', 'Topology'),
                               admin=True)
        self.assertFault(resp, 403, 'protected')

    def test_delete_as_member_returns_403(self):
        self.create_object()
        self.assertFault(self.api_delete(self.path + '/Topology'), 403)
