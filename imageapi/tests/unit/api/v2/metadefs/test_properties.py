"""/v2/metadefs/namespaces/{namespace}/properties[/{property_name}]."""

from imageapi.tests.unit.api.v2 import base
from imageapi.tests.unit.api.v2.metadefs import base as md_base
from imageapi.tests.unit.api.v2.metadefs.base import ns_path

DISK_BUS = {'name': 'disk_bus', 'title': 'Disk bus', 'type': 'string',
            'enum': ['virtio', 'scsi'], 'default': 'virtio',
            'readonly': False, 'operators': ['<or>']}


class PropertiesTest(md_base.MetadefsTestCase):

    def setUp(self):
        super().setUp()
        self.create_namespace('OS::N', visibility='public',
                              resource_type_associations=[
                                  {'name': 'OS::Glance::Image',
                                   'prefix': 'hw_'}])
        self.path = ns_path('OS::N', 'properties')

    def create_property(self, body=DISK_BUS, expect=201):
        resp = self.api_post(self.path, json_body=body, admin=True)
        self.assertEqual(expect, resp.status_int, resp.text)
        return resp.json

    def test_create_returns_201_with_the_definition(self):
        self.assertEqual(DISK_BUS, self.create_property())

    def test_create_each_type_and_keyword(self):
        for body in (
                {'name': 'a', 'title': 'A', 'type': 'integer', 'minimum': 0,
                 'maximum': 10},
                {'name': 'b', 'title': 'B', 'type': 'number',
                 'minimum': 0.5},
                {'name': 'c', 'title': 'C', 'type': 'boolean'},
                {'name': 'd', 'title': 'D', 'type': 'string', 'minLength': 1,
                 'maxLength': 8, 'pattern': '^[a-z]+$'},
                {'name': 'e', 'title': 'E', 'type': 'array', 'minItems': 1,
                 'maxItems': 3, 'uniqueItems': True,
                 'items': {'type': 'string', 'enum': ['x', 'y']}},
                {'name': 'f', 'title': 'F', 'type': 'object'}):
            self.assertEqual(body, self.create_property(body))

    def test_create_bad_definition_returns_400(self):
        for body in ({'title': 'T', 'type': 'string'},
                     {'name': 'n', 'type': 'string'},
                     {'name': 'n', 'title': 'T'},
                     {'name': 'n', 'title': 'T', 'type': 'date'},
                     {'name': 'n', 'title': 'T', 'type': 'string',
                      'pattern': '[unclosed'},
                     {'name': 'n', 'title': 'T', 'type': 'string',
                      'maxLength': -1},
                     {'name': 'n', 'title': 'T', 'type': 'integer',
                      'minimum': 'low'},
                     {'name': 'n', 'title': 'T', 'type': 'string',
                      'enum': 'a'},
                     {'name': 'n', 'title': 'T', 'type': 'array',
                      'items': {'type': 'list'}},
                     {'name': 'n', 'title': 'T', 'type': 'string',
                      'extra': 1},
                     {'name': 'x' * 81, 'title': 'T', 'type': 'string'},
                     {'name': 'n', 'title': 'T', 'type': 'string',
                      'description': 'x' * 70000},
                     [], 'x'):
            resp = self.api_post(self.path, json_body=body, admin=True)
            self.assertFault(resp, 400)

    def test_create_read_only_key_returns_403(self):
        resp = self.api_post(self.path, json_body=dict(
            DISK_BUS, created_at='now'), admin=True)
        self.assertFault(resp, 403)

    def test_create_duplicate_returns_409(self):
        self.create_property()
        self.assertFault(self.api_post(self.path, json_body=DISK_BUS,
                                       admin=True), 409)

    def test_create_as_member_returns_403(self):
        self.assertFault(self.api_post(self.path, json_body=DISK_BUS), 403)

    def test_create_in_invisible_namespace_returns_404(self):
        self.create_namespace('OS::Priv', project=base.PROJECT_B)
        resp = self.api_post(ns_path('OS::Priv', 'properties'),
                             json_body=DISK_BUS)
        self.assertFault(resp, 404)

    def test_index_lists_definitions_by_name(self):
        self.create_property()
        body = self.api_get(self.path).json
        expected = dict(DISK_BUS)
        del expected['name']
        self.assertEqual({'disk_bus': expected}, body['properties'])
        self.assertEqual('v2/schemas/metadefs/properties', body['schema'])

    def test_show_returns_definition(self):
        self.create_property()
        self.assertEqual(DISK_BUS, self.api_get(self.path + '/disk_bus').json)

    def test_show_with_resource_type_takes_prefixed_name(self):
        self.create_property()
        resp = self.api_get(self.path + '/hw_disk_bus'
                            '?resource_type=OS::Glance::Image')
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual('hw_disk_bus', resp.json['name'])

    def test_show_with_resource_type_and_unprefixed_name_returns_404(self):
        self.create_property()
        resp = self.api_get(self.path + '/disk_bus'
                            '?resource_type=OS::Glance::Image')
        self.assertFault(resp, 404)

    def test_show_missing_returns_404(self):
        self.assertFault(self.api_get(self.path + '/none'), 404)

    def test_update_replaces_definition(self):
        self.create_property()
        new = {'name': 'bus', 'title': 'Bus', 'type': 'string'}
        resp = self.api_request('PUT', self.path + '/disk_bus',
                                json_body=new, admin=True)
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual(new, resp.json)
        self.assertFault(self.api_get(self.path + '/disk_bus'), 404)

    def test_update_missing_returns_404(self):
        resp = self.api_request('PUT', self.path + '/none',
                                json_body=DISK_BUS, admin=True)
        self.assertFault(resp, 404)

    def test_update_bad_body_returns_400(self):
        self.create_property()
        resp = self.api_request('PUT', self.path + '/disk_bus',
                                json_body={'name': 'disk_bus'}, admin=True)
        self.assertFault(resp, 400)

    def test_update_as_member_returns_403(self):
        self.create_property()
        resp = self.api_request('PUT', self.path + '/disk_bus',
                                json_body=DISK_BUS)
        self.assertFault(resp, 403)

    def test_delete_removes_property(self):
        self.create_property()
        self.assertEqual(204, self.api_delete(self.path + '/disk_bus',
                                              admin=True).status_int)
        self.assertEqual({}, self.api_get(self.path).json['properties'])

    def test_delete_missing_returns_404(self):
        self.assertFault(self.api_delete(self.path + '/none', admin=True),
                         404)

    def test_delete_in_protected_namespace_returns_403(self):
        self.create_namespace('OS::P', protected=True, properties={
            'p': {'title': 'P', 'type': 'string'}})
        resp = self.api_delete(ns_path('OS::P', 'properties', 'p'),
                               admin=True)
        self.assertFault(resp, 403, 'protected')

    def test_delete_as_member_returns_403(self):
        self.create_property()
        self.assertFault(self.api_delete(self.path + '/disk_bus'), 403)
