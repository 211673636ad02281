"""/v2/metadefs/namespaces/{namespace}/tags[/{tag_name}]."""

from imageapi.tests.unit.api.v2 import base
from imageapi.tests.unit.api.v2.metadefs import base as md_base
from imageapi.tests.unit.api.v2.metadefs.base import ns_path


class TagsTest(md_base.MetadefsTestCase):

    def setUp(self):
        super().setUp()
        self.create_namespace('OS::N', visibility='public',
                              tags=[{'name': 'old'}])
        self.path = ns_path('OS::N', 'tags')

    def names(self):
        resp = self.api_get(self.path)
        self.assertEqual(200, resp.status_int, resp.text)
        return [t['name'] for t in resp.json['tags']]

    def test_create_one_returns_201(self):
        resp = self.api_post(self.path + '/new', admin=True)
        self.assertEqual(201, resp.status_int, resp.text)
        self.assertEqual('new', resp.json['name'])
        self.assertIn('created_at', resp.json)
        self.assertEqual(['old', 'new'], self.names())

    def test_create_one_duplicate_returns_409(self):
        self.assertFault(self.api_post(self.path + '/old', admin=True), 409)

    def test_create_one_too_long_returns_400(self):
        self.assertFault(self.api_post(self.path + '/' + 'x' * 81,
                                       admin=True), 400)

    def test_create_one_unicode_name(self):
        resp = self.api_post(self.path + '/caf%C3%A9', admin=True)
        self.assertEqual(201, resp.status_int, resp.text)
        self.assertIn('caf\u00e9', self.names())

    def test_create_one_as_member_returns_403(self):
        self.assertFault(self.api_post(self.path + '/new'), 403)

    def test_create_many_replaces_tags(self):
        resp = self.api_post(self.path, json_body={
            'tags': [{'name': 'a'}, {'name': 'b'}]}, admin=True)
        self.assertEqual(201, resp.status_int, resp.text)
        self.assertEqual({'tags': [{'name': 'a'}, {'name': 'b'}]}, resp.json)
        self.assertEqual(['a', 'b'], self.names())

    def test_create_many_with_append_header_adds(self):
        resp = self.api_post(self.path, json_body={'tags': [{'name': 'a'}]},
                             admin=True,
                             headers={'X-OpenStack-Append': 'True'})
        self.assertEqual(201, resp.status_int, resp.text)
        self.assertEqual(['old', 'a'], self.names())

    def test_create_many_appending_existing_returns_409(self):
        resp = self.api_post(self.path, json_body={'tags': [{'name': 'old'}]},
                             admin=True,
                             headers={'X-OpenStack-Append': 'true'})
        self.assertFault(resp, 409)
        self.assertEqual(['old'], self.names())

    def test_create_many_with_duplicates_returns_409_and_keeps_tags(self):
        resp = self.api_post(self.path, json_body={
            'tags': [{'name': 'a'}, {'name': 'a'}]}, admin=True)
        self.assertFault(resp, 409)
        self.assertEqual(['old'], self.names())

    def test_create_many_bad_body_returns_400(self):
        for body in ({'tags': 'a'}, {'tags': [{'name': 'x' * 81}]},
                     {'tags': [{}]}, {'tags': [{'name': 1}]}, []):
            resp = self.api_post(self.path, json_body=body, admin=True)
            self.assertFault(resp, 400)

    def test_create_many_bad_append_header_returns_400(self):
        resp = self.api_post(self.path, json_body={'tags': []}, admin=True,
                             headers={'X-OpenStack-Append': 'maybe'})
        self.assertFault(resp, 400)

    def test_create_many_as_member_returns_403(self):
        resp = self.api_post(self.path, json_body={'tags': []})
        self.assertFault(resp, 403)

    def test_create_many_in_invisible_namespace_returns_404(self):
        self.create_namespace('OS::Priv', project=base.PROJECT_B)
        resp = self.api_post(ns_path('OS::Priv', 'tags'),
                             json_body={'tags': []})
        self.assertFault(resp, 404)

    def test_show_returns_tag(self):
        body = self.api_get(self.path + '/old').json
        self.assertEqual('old', body['name'])

    def test_show_missing_returns_404(self):
        self.assertFault(self.api_get(self.path + '/none'), 404)

    def test_update_renames(self):
        resp = self.api_request('PUT', self.path + '/old',
                                json_body={'name': 'new'}, admin=True)
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual(['new'], self.names())

    def test_update_bad_body_returns_400(self):
        for body in ({}, {'name': 'x' * 81}, {'name': 'a', 'x': 1}):
            resp = self.api_request('PUT', self.path + '/old',
                                    json_body=body, admin=True)
            self.assertFault(resp, 400)

    def test_update_to_taken_name_returns_409(self):
        self.api_post(self.path + '/other', admin=True)
        resp = self.api_request('PUT', self.path + '/other',
                                json_body={'name': 'old'}, admin=True)
        self.assertFault(resp, 409)

    def test_update_missing_returns_404(self):
        resp = self.api_request('PUT', self.path + '/none',
                                json_body={'name': 'x'}, admin=True)
        self.assertFault(resp, 404)

    def test_update_as_member_returns_403(self):
        resp = self.api_request('PUT', self.path + '/old',
                                json_body={'name': 'x'})
        self.assertFault(resp, 403)

    def test_delete_removes_tag(self):
        self.assertEqual(204, self.api_delete(self.path + '/old',
                                              admin=True).status_int)
        self.assertEqual([], self.names())

    def test_delete_missing_returns_404(self):
        self.assertFault(self.api_delete(self.path + '/none', admin=True),
                         404)

    def test_delete_in_protected_namespace_returns_403(self):
        self.create_namespace('OS::P', protected=True, tags=[{'name': 't'}])
        resp = self.api_delete(ns_path('OS::P', 'tags', 't'), admin=True)
        self.assertFault(resp, 403)

    def test_delete_as_member_returns_403(self):
        self.assertFault(self.api_delete(self.path + '/old'), 403)
