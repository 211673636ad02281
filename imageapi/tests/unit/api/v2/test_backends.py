"""What the databases store differently, or fail on, is refused before them: 400.

The same tests run on SQLite, PostgreSQL and MariaDB (oslo.db provisions a throwaway
database through OS_TEST_DBAPI_ADMIN_CONNECTION). Without the checks PostgreSQL fails
on NUL, which SQLite and MariaDB store; no database takes an unpaired surrogate;
PostgreSQL and MariaDB fail on a string longer than its column where SQLite stores it;
MariaDB fails on a property value over 65,535 bytes; SQLite fails on an integer beyond
64 bits. Each was a 500.
"""

import sqlalchemy as sa

from imageapi.db import api as db_api
from imageapi.tests.unit.api.v2 import base

_NUL = 'The JSON body contains a NUL character'
_SURROGATE = 'The JSON body contains an unpaired UTF-16 surrogate'
# A TEXT column of MariaDB holds this many bytes.
_TEXT_BYTES = 65535


def _text_of_bytes(count, char):
    """A string of exactly ``count`` UTF-8 bytes: ``char`` repeated, then 'a's."""
    width = len(char.encode('utf-8'))
    return char * (count // width) + 'a' * (count % width)


class _StoredInputTests:
    """Mixed into a test class per database."""

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image(name='x', foo='bar', tags=['t'])['id']
        self.image = self.image_path(self.image_id)

    def assertNothingChanged(self):
        """Still only the image of setUp, as setUp made it."""
        images = self.api_get('/v2/images', admin=True).json['images']
        self.assertEqual([self.image_id], [i['id'] for i in images])
        self.assertEqual(('x', 'bar', ['t']), (images[0]['name'],
                                               images[0]['foo'],
                                               images[0]['tags']))

    def raw_request(self, method, path, raw, content_type=base.JSON,
                    **kwargs):
        """Send ``raw`` (str, JSON text with escapes) as the body."""
        return self.api_request(method, path, body=raw.encode('utf-8'),
                                content_type=content_type, **kwargs)

    # ------------------------------------------------------------ NUL
    def test_create_nul_in_any_string_returns_400(self):
        for body in ({'name': 'a\x00b'}, {'k\x00': 'v'}, {'k': 'v\x00'},
                     {'tags': ['t\x00']}, {'owner': 'p\x00'}):
            resp = self.api_post('/v2/images', json_body=body, admin=True)

            self.assertFault(resp, 400, _NUL)
        self.assertNothingChanged()

    def test_patch_nul_in_path_or_value_returns_400(self):
        for op in ({'op': 'add', 'path': '/k\x00', 'value': 'v'},
                   {'op': 'replace', 'path': '/foo', 'value': 'v\x00'},
                   {'op': 'replace', 'path': '/tags', 'value': ['\x00']},
                   {'op': 'remove', 'path': '/fo\x00'}):
            self.assertFault(self.api_patch(self.image, op), 400, _NUL)
        self.assertNothingChanged()

    def test_tag_nul_in_path_returns_400(self):
        for method in ('PUT', 'DELETE'):
            resp = self.api_request(method, self.image + '/tags/t%00')

            self.assertFault(resp, 400, 'The request path contains a NUL')
        self.assertNothingChanged()

    def test_member_nul_in_body_or_path_returns_400(self):
        resp = self.api_post(self.image + '/members',
                             json_body={'member': 'p\x00'})
        self.assertFault(resp, 400, _NUL)
        for method in ('GET', 'PUT', 'DELETE'):
            resp = self.api_request(method, self.image + '/members/p%00')
            self.assertFault(resp, 400, 'The request path contains a NUL')
        self.assertEqual([], self.api_get(
            self.image + '/members').json['members'])

    def test_list_nul_in_any_query_parameter_returns_400(self):
        for query in ('name=%00', 'name=in:a,%00', 'owner=%00', 'tag=%00',
                      'foo=%00', 'fo%00=bar', 'checksum=%00',
                      'marker=%00', 'sort_key=%00', 'sort=name:%00'):
            resp = self.api_get('/v2/images?' + query, admin=True)

            self.assertFault(resp, 400, 'The query string contains a NUL')

    # ------------------------------------------------------------ surrogates
    def test_create_lone_surrogate_in_any_string_returns_400(self):
        for raw in ('{"name": "a\\ud800b"}', '{"k\\udfff": "v"}',
                    '{"k": "\\ud83d"}', '{"tags": ["\\ude00"]}'):
            resp = self.raw_request('POST', '/v2/images', raw)

            self.assertFault(resp, 400, _SURROGATE)
        self.assertNothingChanged()

    def test_patch_lone_surrogate_in_path_or_value_returns_400(self):
        for raw in ('[{"op": "add", "path": "/k\\ud800", "value": "v"}]',
                    '[{"op": "replace", "path": "/foo", "value": "\\udc00"}]',
                    '[{"op": "add", "path": "/tags", "value": ["\\ud800"]}]'):
            resp = self.raw_request('PATCH', self.image, raw,
                                    content_type=base.PATCH_V21)

            self.assertFault(resp, 400, _SURROGATE)
        self.assertNothingChanged()

    def test_member_lone_surrogate_returns_400(self):
        resp = self.raw_request('POST', self.image + '/members',
                                '{"member": "p\\ud800"}')
        self.assertFault(resp, 400, _SURROGATE)
        resp = self.raw_request('PUT', self.image + '/members/p',
                                '{"status": "\\ud800"}')
        self.assertFault(resp, 400, _SURROGATE)

    # ------------------------------------------------------------ lengths
    def test_member_create_id_of_256_characters_returns_400(self):
        resp = self.api_post(self.image + '/members',
                             json_body={'member': 'm' * 256})

        self.assertFault(resp, 400, "does not match schema 'member'")
        self.assertEqual([], self.api_get(
            self.image + '/members').json['members'])

    def test_member_create_id_of_255_characters_returns_200(self):
        member_id = '\u00e9' * 255

        resp = self.api_post(self.image + '/members',
                             json_body={'member': member_id})

        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual([member_id], [m['member_id'] for m in self.api_get(
            self.image + '/members').json['members']])

    def test_create_as_project_id_of_256_characters_returns_400(self):
        resp = self.api_post('/v2/images', json_body={}, project='p' * 256)

        self.assertFault(resp, 400, "does not match schema 'image'")
        self.assertNothingChanged()

    def test_create_property_value_over_65535_bytes_returns_400(self):
        for char in ('a', '\u00e9', '\u20ac', '\U0001F600'):
            value = _text_of_bytes(_TEXT_BYTES + 1, char)

            resp = self.api_post('/v2/images', json_body={'k': value})

            self.assertFault(resp, 400, "The value of property 'k' is "
                             "longer than 65535 bytes in UTF-8.")
        self.assertNothingChanged()

    def test_keys_differing_in_case_are_two(self):
        # MariaDB's default collation made these one key: a 500 there only
        # (migration 0005 makes the columns binary). NOTE: utf8mb4_bin still
        # pads, so 'a' and 'a ' remain one key on MariaDB.
        image = self.create_image(tags=['a', 'A'], Foo='1', foo='2')

        shown = self.show_image(image['id'])
        self.assertEqual(['A', 'a'], sorted(shown['tags']))
        self.assertEqual(('1', '2'), (shown['Foo'], shown['foo']))

    def test_create_characters_beyond_u_ffff_are_stored(self):
        # An emoji: 4-byte UTF-8, which MariaDB refuses on a charset=utf8
        # connection (db_api.connection_url adds utf8mb4; CI's admin URL
        # names it too).
        name = 'cirros \U0001F680'

        image = self.create_image(name=name, tags=[name], k=name)

        shown = self.show_image(image['id'])
        self.assertEqual((name, [name], name),
                         (shown['name'], shown['tags'], shown['k']))

    def test_create_property_value_of_65535_bytes_is_stored(self):
        # NOTE: no character beyond U+FFFF: oslo.db connects to MySQL with
        # charset=utf8 (utf8mb3) unless the URL names one, and MariaDB then
        # refuses 4-byte UTF-8 whatever its length.
        for char in ('a', '\u00e9', '\u20ac'):
            value = _text_of_bytes(_TEXT_BYTES, char)

            image = self.create_image(description=value, k=value)

            shown = self.show_image(image['id'])
            self.assertEqual((value, value), (shown['k'],
                                              shown['description']))

    def test_patch_property_value_over_65535_bytes_returns_400(self):
        value = _text_of_bytes(_TEXT_BYTES + 1, '\U0001F600')
        for op in ({'op': 'add', 'path': '/k', 'value': value},
                   {'op': 'replace', 'path': '/foo', 'value': value},
                   {'op': 'add', 'path': '/description', 'value': value}):
            resp = self.api_patch(self.image, op)

            self.assertFault(resp, 400, 'longer than 65535 bytes')
        self.assertNothingChanged()

    # ------------------------------------------------------------ depth
    def test_json_nested_100000_levels_on_any_json_route_returns_400(self):
        member = self.image + '/members/' + base.PROJECT_B
        routes = (('POST', '/v2/images', base.JSON),
                  ('PATCH', self.image, base.PATCH_V21),
                  ('PATCH', self.image, base.PATCH_V20),
                  ('POST', self.image + '/members', base.JSON),
                  ('PUT', member, base.JSON))
        for raw in ('[' * 100000 + ']' * 100000,
                    '{"a":' * 100000 + '1' + '}' * 100000,
                    '[{"op": "add", "path": "/k", "value": '
                    + '[' * 100000 + ']' * 100000 + '}]'):
            for method, path, content_type in routes:
                resp = self.raw_request(method, path, raw,
                                        content_type=content_type)

                self.assertFault(resp, 400, 'nested more than 32 levels')
        self.assertNothingChanged()

    # ------------------------------------------------------------ integers
    def test_list_integer_filter_beyond_64_bits_returns_400(self):
        for name in ('size_min', 'size_max', 'size', 'min_ram', 'min_disk'):
            resp = self.api_get('/v2/images?%s=%d' % (name, 2 ** 63))

            self.assertFault(resp, 400, 'must not be greater than')

    def test_list_integer_filter_of_64_bits_returns_200(self):
        for name in ('size_min', 'size_max', 'size', 'min_ram', 'min_disk'):
            resp = self.api_get('/v2/images?%s=%d' % (name, 2 ** 63 - 1))

            self.assertEqual(200, resp.status_int, resp.text)


class StoredInputSQLiteTest(_StoredInputTests, base.APITestCase):
    pass


class StoredInputPostgreSQLTest(base.PostgreSQLMixin, _StoredInputTests,
                                base.APITestCase):
    pass


class StoredInputMySQLTest(base.MySQLMixin, _StoredInputTests,
                           base.APITestCase):
    pass


class _PatchRacingDeleteTests:
    """A DELETE that commits while a PATCH of the same image is under way.

    SQLite's writers queue (db/sqlite.py), so there the PATCH reads the
    image after the DELETE and answers 404.
    """

    def test_patch_racing_delete_returns_404(self):
        image_id = self.create_image(name='x')['id']
        engine = db_api.get_engine()
        deletes = []

        def delete_first(conn, cursor, statement, *args):
            # The PATCH has read the image and is about to write it.
            if not deletes and statement.startswith('UPDATE images'):
                deletes.append(None)
                deletes[0] = self.api_delete(self.image_path(image_id))

        sa.event.listen(engine, 'before_cursor_execute', delete_first)
        self.addCleanup(sa.event.remove, engine, 'before_cursor_execute',
                        delete_first)

        resp = self.api_patch(self.image_path(image_id),
                              {'op': 'replace', 'path': '/name',
                               'value': 'y'})

        self.assertEqual(204, deletes[0].status_int, deletes[0].text)
        # image_update's UPDATE matches only an undeleted row (issue 19:
        # this was a 500 from NoResultFound).
        self.assertFault(resp, 404)


class PatchRacingDeletePostgreSQLTest(base.PostgreSQLMixin,
                                      _PatchRacingDeleteTests,
                                      base.APITestCase):
    pass


class PatchRacingDeleteMySQLTest(base.MySQLMixin, _PatchRacingDeleteTests,
                                 base.APITestCase):
    pass
