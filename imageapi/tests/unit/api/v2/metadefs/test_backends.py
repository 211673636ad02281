"""The metadefs calls on SQLite, PostgreSQL and MariaDB: the same answers on each.

oslo.db provisions a throwaway database through OS_TEST_DBAPI_ADMIN_CONNECTION; the
tests check what the databases could store differently or fail on: names at and over
their column's length, text columns near MariaDB's 65,535 bytes, unique names, NUL and
surrogates, case and trailing spaces in names, and NULLs in a sort key.
"""

import threading
from urllib import parse

import sqlalchemy as sa

from imageapi.db import api as db_api
from imageapi.tests.unit.api.v2 import base
from imageapi.tests.unit.api.v2.metadefs import base as md_base
from imageapi.tests.unit.api.v2.metadefs.base import NS_PATH
from imageapi.tests.unit.api.v2.metadefs.base import ns_path

# 80 characters of 3 bytes each in UTF-8: what every connection carries
# (oslo.db connects to MariaDB with charset=utf8, at most 3 bytes a
# character, unless the URL says otherwise).
LONGEST = '\u20ac' * 80


class _BackendTests:

    def test_longest_names_are_stored_on_every_part(self):
        prop = {'title': 'T', 'type': 'string'}
        body = self.create_namespace(
            LONGEST, display_name=LONGEST, description='\u00e9' * 500,
            owner='o' * 255, properties={LONGEST: prop},
            objects=[{'name': LONGEST}], tags=[{'name': LONGEST}],
            resource_type_associations=[{'name': LONGEST, 'prefix': LONGEST,
                                         'properties_target': LONGEST}])
        self.assertEqual(LONGEST, body['namespace'])
        shown = self.api_get(ns_path(parse.quote(LONGEST)), admin=True).json
        self.assertEqual([LONGEST], list(shown['properties']))
        self.assertEqual(LONGEST, shown['objects'][0]['name'])
        self.assertEqual(LONGEST, shown['tags'][0]['name'])
        self.assertEqual(LONGEST,
                         shown['resource_type_associations'][0]['prefix'])

    def test_four_byte_characters_are_stored_or_refused_with_400(self):
        name = '\U0001f600' * 80
        resp = self.api_post(NS_PATH, json_body={'namespace': name},
                             admin=True)
        self.assertIn(resp.status_int, (201, 400), resp.text)
        if resp.status_int == 400:
            self.assertFault(resp, 400, 'cannot store')
            self.assertEqual([], self.api_get(NS_PATH).json['namespaces'])
        else:
            self.assertEqual(name, self.api_get(
                ns_path(parse.quote(name))).json['namespace'])

    def test_names_differing_in_trailing_space_show_their_own(self):
        self.create_namespace('OS::Space')
        self.assertFault(self.api_get(ns_path('OS::Space%20'),
                                      admin=True), 404)

    def test_names_over_their_column_return_400(self):
        self.create_namespace('OS::N')
        too_long = LONGEST + 'x'
        for method, path, body in (
                ('POST', NS_PATH, {'namespace': too_long}),
                ('POST', ns_path('OS::N', 'objects'), {'name': too_long}),
                ('POST', ns_path('OS::N', 'properties'),
                 {'name': too_long, 'title': 't', 'type': 'string'}),
                ('POST', ns_path('OS::N', 'tags'),
                 {'tags': [{'name': too_long}]}),
                ('PUT', ns_path('OS::N'), {'namespace': too_long}),
                ('POST', ns_path('OS::N', 'resource_types'),
                 {'name': too_long})):
            resp = self.api_request(method, path, json_body=body, admin=True)
            self.assertFault(resp, 400)
        resp = self.api_post(ns_path('OS::N', 'tags', 'x' * 81), admin=True)
        self.assertFault(resp, 400)

    def test_long_names_in_paths_return_404(self):
        self.create_namespace('OS::N')
        for path in (ns_path('x' * 300), ns_path('OS::N', 'objects',
                                                 'x' * 300),
                     ns_path('OS::N', 'properties', 'x' * 300),
                     ns_path('OS::N', 'tags', 'x' * 300)):
            self.assertFault(self.api_get(path, admin=True), 404)
        resp = self.api_delete(ns_path('OS::N', 'resource_types', 'x' * 300),
                               admin=True)
        self.assertFault(resp, 404)

    def test_largest_object_fits_and_larger_returns_400(self):
        self.create_namespace('OS::N')
        path = ns_path('OS::N', 'objects')
        # json.dumps of the description adds its two quotes.
        body = {'name': 'big', 'description': 'x' * (65535 - 2)}
        resp = self.api_post(path, json_body=body, admin=True)
        self.assertEqual(201, resp.status_int, resp.text[:200])
        self.assertEqual(65533, len(self.api_get(path + '/big').json[
            'description']))
        body = {'name': 'bigger', 'description': 'x' * 65534}
        self.assertFault(self.api_post(path, json_body=body, admin=True),
                         400)

    def test_duplicates_return_409_on_every_part(self):
        self.create_namespace('OS::N', tags=[{'name': 't'}],
                              objects=[{'name': 'o'}],
                              properties={'p': {'title': 'P',
                                                'type': 'string'}},
                              resource_type_associations=[{'name': 'R'}])
        for path, body in (
                (NS_PATH, {'namespace': 'OS::N'}),
                (ns_path('OS::N', 'objects'), {'name': 'o'}),
                (ns_path('OS::N', 'properties'),
                 {'name': 'p', 'title': 'P', 'type': 'string'}),
                (ns_path('OS::N', 'tags', 't'), None),
                (ns_path('OS::N', 'resource_types'), {'name': 'R'})):
            kwargs = {} if body is None else {'json_body': body}
            resp = self.api_post(path, admin=True, **kwargs)
            self.assertFault(resp, 409)

    def test_nul_and_surrogate_return_400(self):
        self.create_namespace('OS::N')
        for raw in ('{"namespace": "a\\u0000"}', '{"namespace": "\\ud800"}'):
            resp = self.api_request('POST', NS_PATH, body=raw.encode(),
                                    content_type=base.JSON, admin=True)
            self.assertFault(resp, 400)
        self.assertFault(self.api_get(ns_path('OS%00N'), admin=True), 400)
        self.assertFault(self.api_post(ns_path('OS::N', 'tags', 'a%00'),
                                       admin=True), 400)

    def test_names_differing_in_case_are_two_namespaces(self):
        self.create_namespace('OS::Case')
        self.create_namespace('OS::CASE')
        self.assertEqual('OS::Case', self.api_get(
            ns_path('OS::Case')).json['namespace'])

    def test_sort_by_display_name_with_nulls_pages_every_namespace(self):
        self.create_namespace('OS::1', display_name='b')
        self.create_namespace('OS::2')
        self.create_namespace('OS::3', display_name='a')
        for direction, expected in (('asc', ['OS::2', 'OS::3', 'OS::1']),
                                    ('desc', ['OS::1', 'OS::3', 'OS::2'])):
            seen = []
            path = NS_PATH + '?limit=1&sort_key=display_name&sort_dir=%s' % (
                direction)
            while path:
                body = self.api_get(path).json
                seen += [n['namespace'] for n in body['namespaces']]
                path = body.get('next')
            self.assertEqual(expected, seen)

    def test_lifecycle(self):
        self.create_namespace('OS::L', protected=True, tags=[{'name': 't'}])
        self.assertFault(self.api_delete(ns_path('OS::L'), admin=True), 403)
        resp = self.api_request('PUT', ns_path('OS::L'), admin=True,
                                json_body={'namespace': 'OS::L2'})
        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual(204, self.api_delete(ns_path('OS::L2'),
                                              admin=True).status_int)
        self.assertEqual([], self.api_get(NS_PATH).json['namespaces'])


class SQLiteTest(_BackendTests, md_base.MetadefsTestCase):
    pass


class PostgreSQLTest(base.PostgreSQLMixin, _BackendTests,
                     md_base.MetadefsTestCase):
    pass


class MySQLTest(base.MySQLMixin, _BackendTests, md_base.MetadefsTestCase):
    pass


class _AddRacingDeleteTests:
    """A namespace DELETE that arrives while a tag is being added to it.

    The writers lock the namespace row, so the DELETE waits for the add to
    commit and then deletes the new tag too; without the lock it would
    delete the namespace under the add, whose INSERT then fails on the
    foreign key (a 500).
    """

    def test_add_tag_racing_namespace_delete_both_succeed(self):
        self.create_namespace('OS::Race')
        engine = db_api.get_engine()
        deleting = []

        def delete_meanwhile(conn, cursor, statement, *args):
            if deleting or not statement.startswith(
                    'INSERT INTO metadef_tags'):
                return
            thread = threading.Thread(target=lambda: deleting.append(
                self.api_delete(ns_path('OS::Race'), admin=True)))
            deleting.append(thread)
            thread.start()
            # The DELETE blocks on the namespace row until this
            # transaction ends; a DELETE that does not block is done here.
            thread.join(timeout=1)

        sa.event.listen(engine, 'before_cursor_execute', delete_meanwhile)
        self.addCleanup(sa.event.remove, engine, 'before_cursor_execute',
                        delete_meanwhile)

        resp = self.api_post(ns_path('OS::Race', 'tags', 't'), admin=True)
        deleting[0].join()

        self.assertEqual(201, resp.status_int, resp.text)
        self.assertEqual(204, deleting[1].status_int, deleting[1].text)
        self.assertFault(self.api_get(ns_path('OS::Race'), admin=True), 404)


class AddRacingDeletePostgreSQLTest(base.PostgreSQLMixin,
                                    _AddRacingDeleteTests,
                                    md_base.MetadefsTestCase):
    pass


class AddRacingDeleteMySQLTest(base.MySQLMixin, _AddRacingDeleteTests,
                               md_base.MetadefsTestCase):
    pass
