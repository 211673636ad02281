"""/v2/metadefs/namespaces[/{namespace}]: list, show, create, update, delete, emptying."""

import datetime

from imageapi.tests.unit.api.v2 import base
from imageapi.tests.unit.api.v2.metadefs import base as md_base
from imageapi.tests.unit.api.v2.metadefs.base import NS_PATH
from imageapi.tests.unit.api.v2.metadefs.base import ns_path
from imageapi.tests.unit.api.v2.metadefs.base import string_property

FULL = {
    'display_name': 'Test', 'description': 'For tests',
    'visibility': 'public', 'protected': False,
    'resource_type_associations': [{'name': 'OS::Glance::Image',
                                    'prefix': 'hw_'}],
    'properties': {'cpu': string_property('CPU')},
    'objects': [{'name': 'Topology', 'required': ['cores'],
                 'properties': {'cores': {'title': 'Cores',
                                          'type': 'integer'}}}],
    'tags': [{'name': 'one'}, {'name': 'two'}],
}


class CreateTest(md_base.MetadefsTestCase):

    def test_create_minimal_returns_201_private_owned_by_caller(self):
        body = self.create_namespace('OS::Min')
        self.assertEqual('OS::Min', body['namespace'])
        self.assertEqual('private', body['visibility'])
        self.assertFalse(body['protected'])
        self.assertEqual(base.PROJECT_A, body['owner'])
        self.assertEqual(ns_path('OS::Min'), body['self'])
        self.assertEqual('/v2/schemas/metadefs/namespace', body['schema'])
        self.assertNotIn('display_name', body)

    def test_create_sets_location(self):
        resp = self.api_post(NS_PATH, json_body={'namespace': 'OS::L'},
                             admin=True)
        self.assertTrue(resp.headers['Location'].endswith(ns_path('OS::L')))

    def test_create_non_ascii_sets_quoted_location(self):
        resp = self.api_post(NS_PATH, json_body={'namespace': 'OS::\u00e9'},
                             admin=True)
        self.assertTrue(resp.headers['Location'].endswith(
            ns_path('OS::%C3%A9')))

    def test_create_with_content_returns_it_all(self):
        body = self.create_namespace('OS::Full', **FULL)
        self.assertEqual({'cpu': string_property('CPU')}, body['properties'])
        self.assertEqual(['Topology'], [o['name'] for o in body['objects']])
        self.assertEqual([{'name': 'one'}, {'name': 'two'}], body['tags'])
        self.assertEqual('hw_',
                         body['resource_type_associations'][0]['prefix'])

    def test_create_with_owner_keeps_it(self):
        body = self.create_namespace('OS::O', owner=base.PROJECT_B)
        self.assertEqual(base.PROJECT_B, body['owner'])

    def test_create_duplicate_returns_409(self):
        self.create_namespace('OS::Dup')
        resp = self.api_post(NS_PATH, json_body={'namespace': 'OS::Dup'},
                             admin=True)
        self.assertFault(resp, 409, 'OS::Dup')

    def test_create_duplicate_tag_in_body_returns_409_and_creates_nothing(
            self):
        resp = self.api_post(NS_PATH, json_body={
            'namespace': 'OS::T', 'tags': [{'name': 'a'}, {'name': 'a'}]},
            admin=True)
        self.assertFault(resp, 409)
        self.assertFault(self.api_get(ns_path('OS::T'), admin=True), 404)

    def test_create_as_member_returns_403(self):
        resp = self.api_post(NS_PATH, json_body={'namespace': 'OS::M'})
        self.assertFault(resp, 403)

    def test_create_without_namespace_returns_400(self):
        resp = self.api_post(NS_PATH, json_body={'display_name': 'x'},
                             admin=True)
        self.assertFault(resp, 400, "'namespace' is a required property")

    def test_create_with_unknown_key_returns_400(self):
        resp = self.api_post(NS_PATH, json_body={'namespace': 'a', 'x': 1},
                             admin=True)
        self.assertFault(resp, 400)

    def test_create_with_read_only_key_returns_403(self):
        for key in ('self', 'schema', 'created_at', 'updated_at'):
            resp = self.api_post(NS_PATH, json_body={'namespace': 'a',
                                                     key: 'x'}, admin=True)
            self.assertFault(resp, 403, key)

    def test_create_with_bad_visibility_returns_400(self):
        resp = self.api_post(NS_PATH, json_body={'namespace': 'a',
                                                 'visibility': 'shared'},
                             admin=True)
        self.assertFault(resp, 400)

    def test_create_with_long_strings_returns_400(self):
        for field, length in (('namespace', 81), ('display_name', 81),
                              ('description', 501), ('owner', 256)):
            body = {'namespace': 'OS::Long', field: 'x' * length}
            resp = self.api_post(NS_PATH, json_body=body, admin=True)
            self.assertFault(resp, 400, field if field != 'namespace'
                             else None)

    def test_create_with_long_content_names_returns_400(self):
        long = 'x' * 81
        for content in ({'properties': {long: string_property()}},
                        {'tags': [{'name': long}]},
                        {'objects': [{'name': long}]},
                        {'resource_type_associations': [{'name': long}]},
                        {'resource_type_associations': [
                            {'name': 'OS::Nova::Flavor', 'prefix': long}]}):
            resp = self.api_post(NS_PATH, json_body=dict(
                content, namespace='OS::C'), admin=True)
            self.assertFault(resp, 400)

    def test_create_with_nameless_parts_returns_400(self):
        for content in ({'tags': [{}]}, {'objects': [{}]},
                        {'resource_type_associations': [{'prefix': 'p'}]}):
            resp = self.api_post(NS_PATH, json_body=dict(
                content, namespace='OS::C'), admin=True)
            self.assertFault(resp, 400)

    def test_create_with_bad_property_definition_returns_400(self):
        for definition in ({'type': 'string'}, {'title': 't'},
                           {'title': 't', 'type': 'date'},
                           string_property(pattern='('),
                           string_property(minLength=-1),
                           {'title': 't', 'type': 'integer',
                            'minimum': 'one'},
                           string_property(enum='a')):
            resp = self.api_post(NS_PATH, json_body={
                'namespace': 'OS::P', 'properties': {'p': definition}},
                admin=True)
            self.assertFault(resp, 400)

    def test_create_with_non_object_body_returns_400(self):
        for body in ([], 'x', 1, None):
            resp = self.api_post(NS_PATH, json_body=body, admin=True)
            self.assertFault(resp, 400)

    def test_create_with_malformed_json_returns_400(self):
        resp = self.api_request('POST', NS_PATH, body=b'{', content_type=base.JSON,
                                admin=True)
        self.assertFault(resp, 400)

    def test_create_with_nul_returns_400(self):
        resp = self.api_post(NS_PATH, json_body={'namespace': 'a\x00b'},
                             admin=True)
        self.assertFault(resp, 400, 'NUL')

    def test_create_with_wrong_content_type_returns_415(self):
        resp = self.api_request('POST', NS_PATH, body=b'{}',
                                content_type='text/plain', admin=True)
        self.assertFault(resp, 415)

    def test_create_with_huge_object_returns_400(self):
        obj = {'name': 'big', 'description': 'x' * 70000}
        resp = self.api_post(NS_PATH, json_body={'namespace': 'OS::B',
                                                 'objects': [obj]},
                             admin=True)
        self.assertFault(resp, 400, 'bytes')

    def test_create_unicode_name_round_trips(self):
        self.create_namespace('OS::Caf\u00e9')
        resp = self.api_get(ns_path('OS::Caf%C3%A9'))
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual('OS::Caf\u00e9', resp.json['namespace'])


class ShowTest(md_base.MetadefsTestCase):

    def test_show_embeds_content(self):
        self.create_namespace('OS::Full', **FULL)
        body = self.api_get(ns_path('OS::Full')).json
        self.assertEqual({'cpu': string_property('CPU')}, body['properties'])
        obj = body['objects'][0]
        self.assertEqual(['cores'], obj['required'])
        self.assertEqual(ns_path('OS::Full', 'objects', 'Topology'),
                         obj['self'])
        self.assertEqual(['one', 'two'], [t['name'] for t in body['tags']])
        self.assertEqual('OS::Glance::Image',
                         body['resource_type_associations'][0]['name'])

    def test_show_with_resource_type_prefixes_property_names(self):
        self.create_namespace('OS::Full', **FULL)
        body = self.api_get(ns_path('OS::Full') +
                            '?resource_type=OS::Glance::Image').json
        self.assertEqual(['hw_cpu'], list(body['properties']))
        obj = body['objects'][0]
        self.assertEqual(['hw_cores'], list(obj['properties']))
        self.assertEqual(['hw_cores'], obj['required'])

    def test_show_with_other_resource_type_keeps_names(self):
        self.create_namespace('OS::Full', **FULL)
        body = self.api_get(ns_path('OS::Full') +
                            '?resource_type=OS::Nova::Flavor').json
        self.assertEqual(['cpu'], list(body['properties']))

    def test_show_missing_returns_404(self):
        self.assertFault(self.api_get(ns_path('OS::None')), 404, 'OS::None')

    def test_show_private_of_other_project_returns_404(self):
        self.create_namespace('OS::Priv', project=base.PROJECT_B)
        self.assertFault(self.api_get(ns_path('OS::Priv')), 404)

    def test_show_private_of_own_project_returns_200(self):
        self.create_namespace('OS::Mine')
        self.assertEqual(200, self.api_get(ns_path('OS::Mine')).status_int)

    def test_show_public_of_other_project_returns_200(self):
        self.create_namespace('OS::Pub', project=base.PROJECT_B,
                              visibility='public')
        self.assertEqual(200, self.api_get(ns_path('OS::Pub')).status_int)

    def test_show_private_of_other_project_as_admin_returns_200(self):
        self.create_namespace('OS::Priv', project=base.PROJECT_B)
        resp = self.api_get(ns_path('OS::Priv'), admin=True)
        self.assertEqual(200, resp.status_int)

    def test_show_without_reader_role_returns_404(self):
        self.create_namespace('OS::Mine', visibility='public')
        resp = self.api_get(ns_path('OS::Mine'),
                            headers={'X-Roles': 'observer'})
        self.assertFault(resp, 404)

    def test_show_as_reader_returns_200(self):
        self.create_namespace('OS::Mine')
        resp = self.as_reader('GET', ns_path('OS::Mine'))
        self.assertEqual(200, resp.status_int, resp.text)

    def test_show_long_name_returns_404(self):
        self.assertFault(self.api_get(ns_path('x' * 300)), 404)


class ListTest(md_base.MetadefsTestCase):

    def _names(self, resp):
        self.assertEqual(200, resp.status_int, resp.text)
        return [ns['namespace'] for ns in resp.json['namespaces']]

    def test_list_shows_public_and_own_private(self):
        self.create_namespace('OS::Mine')
        self.create_namespace('OS::Pub', project=base.PROJECT_B,
                              visibility='public')
        self.create_namespace('OS::Theirs', project=base.PROJECT_B)
        self.assertEqual(['OS::Mine', 'OS::Pub'],
                         sorted(self._names(self.api_get(NS_PATH))))

    def test_list_as_admin_shows_all(self):
        for name in ('OS::A', 'OS::B'):
            self.create_namespace(name, project=base.PROJECT_B)
        resp = self.api_get(NS_PATH, admin=True)
        self.assertEqual(2, len(self._names(resp)))

    def test_list_has_schema_and_first_links(self):
        body = self.api_get(NS_PATH + '?visibility=public').json
        self.assertEqual('/v2/schemas/metadefs/namespaces', body['schema'])
        self.assertEqual(NS_PATH + '?visibility=public', body['first'])
        self.assertNotIn('next', body)

    def test_list_filters_visibility(self):
        self.create_namespace('OS::Pub', visibility='public')
        self.create_namespace('OS::Priv')
        self.assertEqual(['OS::Priv'], self._names(
            self.api_get(NS_PATH + '?visibility=private')))

    def test_list_filters_resource_types(self):
        self.create_namespace('OS::Img', resource_type_associations=[
            {'name': 'OS::Glance::Image'}])
        self.create_namespace('OS::Vol', resource_type_associations=[
            {'name': 'OS::Cinder::Volume'}])
        self.create_namespace('OS::None')
        self.assertEqual(['OS::Img'], self._names(self.api_get(
            NS_PATH + '?resource_types=OS::Glance::Image')))
        self.assertEqual(['OS::Img', 'OS::Vol'], sorted(self._names(
            self.api_get(NS_PATH + '?resource_types=OS::Glance::Image,'
                                   'OS::Cinder::Volume'))))

    def test_list_pages_with_marker_and_next(self):
        for name in ('OS::1', 'OS::2', 'OS::3'):
            self.create_namespace(name)
        body = self.api_get(NS_PATH + '?limit=2&sort_key=namespace'
                                      '&sort_dir=asc').json
        self.assertEqual(['OS::1', 'OS::2'],
                         [n['namespace'] for n in body['namespaces']])
        self.assertIn('marker=OS%3A%3A2', body['next'])
        body = self.api_get(body['next']).json
        self.assertEqual(['OS::3'],
                         [n['namespace'] for n in body['namespaces']])
        self.assertNotIn('next', body)

    def test_list_pages_by_display_name_with_nulls(self):
        self.create_namespace('OS::1', display_name='b')
        self.create_namespace('OS::2')
        self.create_namespace('OS::3', display_name='a')
        seen = []
        path = NS_PATH + '?limit=1&sort_key=display_name&sort_dir=asc'
        while path:
            body = self.api_get(path).json
            seen += [n['namespace'] for n in body['namespaces']]
            path = body.get('next')
        self.assertEqual(['OS::2', 'OS::3', 'OS::1'], seen)

    def test_list_pages_by_protected(self):
        self.create_namespace('OS::1', protected=True)
        self.create_namespace('OS::2')
        resp = self.api_get(NS_PATH + '?limit=1&sort_key=protected')
        self.assertEqual(['OS::1'], self._names(resp))
        self.assertEqual(['OS::2'], self._names(self.api_get(
            resp.json['next'])))

    def test_list_default_order_is_newest_first(self):
        clock = self.freeze_time(datetime.datetime(2026, 1, 1))
        self.create_namespace('OS::Old')
        clock.return_value = datetime.datetime(2026, 1, 2)
        self.create_namespace('OS::New')
        self.assertEqual(['OS::New', 'OS::Old'],
                         self._names(self.api_get(NS_PATH)))

    def test_list_limit_is_capped_by_api_limit_max(self):
        self.flags(api_limit_max=1)
        self.app = self.load_app()
        self.create_namespace('OS::1')
        self.create_namespace('OS::2')
        self.assertEqual(1, len(self._names(self.api_get(
            NS_PATH + '?limit=100'))))

    def test_list_bad_params_return_400(self):
        for query in ('limit=x', 'limit=-1', 'sort_dir=up',
                      'sort_key=description', 'visibility=shared',
                      'limit=%ff'):
            self.assertFault(self.api_get(NS_PATH + '?' + query), 400)

    def test_list_unknown_marker_returns_404(self):
        self.assertFault(self.api_get(NS_PATH + '?marker=OS::None'), 404)

    def test_list_without_reader_role_returns_403(self):
        resp = self.api_get(NS_PATH, headers={'X-Roles': 'observer'})
        self.assertFault(resp, 403)


class UpdateTest(md_base.MetadefsTestCase):

    def test_update_replaces_fields(self):
        self.create_namespace('OS::U', display_name='old',
                              description='d', visibility='public')
        resp = self.api_request('PUT', ns_path('OS::U'), json_body={
            'namespace': 'OS::U', 'display_name': 'new'}, admin=True)
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual('new', resp.json['display_name'])
        self.assertNotIn('description', resp.json)
        self.assertEqual('private', resp.json['visibility'])

    def test_update_renames_and_keeps_content(self):
        self.create_namespace('OS::Old', tags=[{'name': 't'}])
        resp = self.api_request('PUT', ns_path('OS::Old'), json_body={
            'namespace': 'OS::New'}, admin=True)
        self.assertEqual('OS::New', resp.json['namespace'])
        self.assertFault(self.api_get(ns_path('OS::Old')), 404)
        tags = self.api_get(ns_path('OS::New', 'tags')).json['tags']
        self.assertEqual(['t'], [t['name'] for t in tags])

    def test_update_to_existing_name_returns_409(self):
        self.create_namespace('OS::A')
        self.create_namespace('OS::B')
        resp = self.api_request('PUT', ns_path('OS::A'), json_body={
            'namespace': 'OS::B'}, admin=True)
        self.assertFault(resp, 409)

    def test_update_as_member_returns_403(self):
        self.create_namespace('OS::A')
        resp = self.api_request('PUT', ns_path('OS::A'),
                                json_body={'namespace': 'OS::A'})
        self.assertFault(resp, 403)

    def test_update_invisible_returns_404(self):
        self.create_namespace('OS::A', project=base.PROJECT_B)
        resp = self.api_request('PUT', ns_path('OS::A'),
                                json_body={'namespace': 'OS::A'})
        self.assertFault(resp, 404)

    def test_update_bad_body_returns_400(self):
        self.create_namespace('OS::A')
        for body in ({}, {'namespace': 'x' * 81}, [],
                     {'namespace': 'OS::A', 'protected': 'yes'}):
            resp = self.api_request('PUT', ns_path('OS::A'), json_body=body,
                                    admin=True)
            self.assertFault(resp, 400)


class DeleteTest(md_base.MetadefsTestCase):

    def test_delete_removes_namespace_and_content(self):
        self.create_namespace('OS::D', **FULL)
        resp = self.api_delete(ns_path('OS::D'), admin=True)
        self.assertEqual(204, resp.status_int, resp.text)
        self.assertFault(self.api_get(ns_path('OS::D')), 404)
        # The name is free again, with nothing left over.
        body = self.create_namespace('OS::D')
        self.assertNotIn('tags', body)

    def test_delete_protected_returns_403(self):
        self.create_namespace('OS::P', protected=True)
        resp = self.api_delete(ns_path('OS::P'), admin=True)
        self.assertFault(resp, 403, 'protected')

    def test_delete_as_member_returns_403(self):
        self.create_namespace('OS::P')
        self.assertFault(self.api_delete(ns_path('OS::P')), 403)

    def test_delete_missing_returns_404(self):
        self.assertFault(self.api_delete(ns_path('OS::P'), admin=True), 404)

    def test_delete_invisible_as_member_returns_404(self):
        self.create_namespace('OS::P', project=base.PROJECT_B)
        self.assertFault(self.api_delete(ns_path('OS::P')), 404)


class EmptyTest(md_base.MetadefsTestCase):

    def test_delete_each_part_empties_only_it(self):
        self.create_namespace('OS::E', **FULL)
        for part, key in (('objects', 'objects'),
                          ('properties', 'properties'), ('tags', 'tags')):
            resp = self.api_delete(ns_path('OS::E', part), admin=True)
            self.assertEqual(204, resp.status_int, resp.text)
            body = self.api_get(ns_path('OS::E')).json
            self.assertNotIn(key, body)
        self.assertIn('resource_type_associations', body)

    def test_delete_part_of_protected_returns_403(self):
        self.create_namespace('OS::E', protected=True, **{
            k: v for k, v in FULL.items() if k != 'protected'})
        for part in ('objects', 'properties', 'tags'):
            resp = self.api_delete(ns_path('OS::E', part), admin=True)
            self.assertFault(resp, 403)

    def test_delete_part_as_member_returns_403(self):
        self.create_namespace('OS::E')
        for part in ('objects', 'properties', 'tags'):
            self.assertFault(self.api_delete(ns_path('OS::E', part)), 403)

    def test_delete_part_of_missing_returns_404(self):
        for part in ('objects', 'properties', 'tags'):
            resp = self.api_delete(ns_path('OS::E', part), admin=True)
            self.assertFault(resp, 404)
