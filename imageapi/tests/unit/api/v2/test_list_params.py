"""API tests of GET /v2/images: paging, sorting, filters and visibility, as Glance lists."""

import datetime
import urllib.parse

import webob

from imageapi.api.v2 import list_params
from imageapi.common import exception
from imageapi.tests import base as test_base
from imageapi.tests.unit.api.v2 import base

T0 = datetime.datetime(2024, 1, 1, 12, 0, 0)


def _ids(resp):
    return [image['id'] for image in resp.json['images']]


class ListTestCase(base.APITestCase):

    def list_images(self, query='', **kwargs):
        resp = self.api_get('/v2/images' + ('?' + query if query else ''),
                            **kwargs)
        self.assertEqual(200, resp.status_int, resp.text)
        return resp

    def list_ids(self, query='', **kwargs):
        return _ids(self.list_images(query, **kwargs))

    def create_at(self, when, **fields):
        """Create an image whose created_at/updated_at are ``when``."""
        if not hasattr(self, 'clock'):
            self.clock = self.freeze_time(when)
        self.clock.return_value = when
        return self.create_image(**fields)['id']

    def create_many(self, count, **fields):
        """``count`` images one second apart, oldest first; their ids."""
        return [self.create_at(T0 + datetime.timedelta(seconds=i), **fields)
                for i in range(count)]

    def follow_pages(self, query, **kwargs):
        """Every image id reached by following ``next`` from ``query``."""
        seen, pages = [], 0
        resp = self.list_images(query, **kwargs)
        while True:
            pages += 1
            seen.extend(_ids(resp))
            if 'next' not in resp.json:
                return seen, pages
            resp = self.api_get(resp.json['next'], **kwargs)
            self.assertEqual(200, resp.status_int, resp.text)


class ListBodyTest(ListTestCase):

    def test_list_no_images_returns_empty_list_with_links(self):
        resp = self.list_images()

        self.assertEqual({'images': [], 'first': '/v2/images',
                          'schema': '/v2/schemas/images'}, resp.json)

    def test_list_returns_full_image_records(self):
        created = self.create_image(name='x', foo='bar')

        self.assertEqual([created], self.list_images().json['images'])

    def test_list_first_keeps_query_without_marker(self):
        image_id = self.create_image()['id']

        resp = self.list_images('limit=1&name=x&marker=%s' % image_id)

        parsed = urllib.parse.urlsplit(resp.json['first'])
        self.assertEqual('/v2/images', parsed.path)
        self.assertEqual({'limit': ['1'], 'name': ['x']},
                         urllib.parse.parse_qs(parsed.query))

    def test_list_next_absent_when_no_more_images(self):
        self.create_many(2)

        self.assertNotIn('next', self.list_images('limit=2').json)

    def test_list_next_present_when_more_images(self):
        ids = self.create_many(3)

        resp = self.list_images('limit=2')

        query = urllib.parse.parse_qs(
            urllib.parse.urlsplit(resp.json['next']).query)
        self.assertEqual({'limit': ['2'], 'marker': [ids[1]]}, query)

    def test_list_next_keeps_repeated_params(self):
        self.create_many(3, tags=['a', 'b'])

        resp = self.list_images('limit=1&tag=a&tag=b')

        query = urllib.parse.parse_qs(
            urllib.parse.urlsplit(resp.json['next']).query)
        self.assertEqual(['a', 'b'], query['tag'])


class ListPagingTest(ListTestCase):

    def test_list_without_limit_returns_25(self):
        self.create_many(26)

        resp = self.list_images()

        self.assertEqual(25, len(resp.json['images']))
        self.assertIn('next', resp.json)

    def test_list_default_limit_follows_config(self):
        self.flags(limit_param_default=2)
        self.create_many(3)

        self.assertEqual(2, len(self.list_ids()))

    def test_list_limit_is_capped_by_api_limit_max(self):
        self.flags(api_limit_max=3)
        self.create_many(5)

        self.assertEqual(3, len(self.list_ids('limit=100')))

    def test_list_limit_zero_returns_no_images(self):
        self.create_many(2)

        resp = self.list_images('limit=0')

        self.assertEqual([], resp.json['images'])
        self.assertNotIn('next', resp.json)

    def test_list_negative_limit_returns_400(self):
        self.assertFault(self.api_get('/v2/images?limit=-1'), 400, 'limit')

    def test_list_non_integer_limit_returns_400(self):
        self.assertFault(self.api_get('/v2/images?limit=ten'), 400, 'limit')

    def test_list_limit_beyond_64_bits_is_capped_by_api_limit_max(self):
        # As Glance: any integer limit is cut to api_limit_max.
        self.flags(api_limit_max=2)
        self.create_many(3)

        self.assertEqual(2, len(self.list_ids('limit=%d' % 2 ** 80)))

    def test_list_marker_returns_images_after_it(self):
        ids = self.create_many(4)

        self.assertEqual([ids[1], ids[0]],
                         self.list_ids('marker=%s' % ids[2]))

    def test_list_unknown_marker_returns_400(self):
        self.assertFault(self.api_get('/v2/images?marker=%s' % self.new_id()),
                         400)

    def test_list_malformed_marker_returns_400(self):
        self.assertFault(self.api_get('/v2/images?marker=abc'), 400)

    def test_list_marker_of_invisible_image_returns_400(self):
        image_id = self.create_image(visibility='private')['id']

        resp = self.api_get('/v2/images?marker=%s' % image_id,
                            project=base.PROJECT_B)

        self.assertFault(resp, 400)

    def test_list_marker_of_deleted_image_returns_400(self):
        image_id = self.create_image()['id']
        self.api_delete(self.image_path(image_id))

        self.assertFault(self.api_get('/v2/images?marker=%s' % image_id), 400)

    def test_list_paging_visits_every_image_once(self):
        ids = self.create_many(7)

        seen, pages = self.follow_pages('limit=2')

        self.assertEqual(list(reversed(ids)), seen)
        self.assertEqual(4, pages)

    def test_list_paging_with_equal_created_at_visits_every_image_once(self):
        ids = [self.create_at(T0) for _ in range(7)]

        seen, _ = self.follow_pages('limit=3')

        self.assertEqual(sorted(ids), sorted(seen))
        self.assertEqual(len(ids), len(seen))

    def test_list_paging_sorted_by_duplicate_names_visits_every_image(self):
        ids = [self.create_at(T0 + datetime.timedelta(seconds=i % 2),
                              name='n%d' % (i % 3)) for i in range(9)]

        seen, _ = self.follow_pages('limit=2&sort=name:asc,created_at:desc')

        self.assertEqual(sorted(ids), sorted(seen))
        self.assertEqual(len(ids), len(seen))

    def test_list_paging_sorted_by_name_with_null_names_visits_every_image(
            self):
        ids = [self.create_at(T0 + datetime.timedelta(seconds=i),
                              **({'name': 'n%d' % i} if i % 2 else {}))
               for i in range(6)]

        for sort in ('name:asc', 'name:desc'):
            seen, _ = self.follow_pages('limit=2&sort=%s' % sort)
            self.assertEqual(sorted(ids), sorted(seen), sort)
            self.assertEqual(len(ids), len(seen), sort)

    def test_list_paging_sorted_by_size_with_null_sizes_visits_every_image(
            self):
        ids = self.create_many(5)
        for image_id in ids[:2]:
            self.activate_image(image_id, b'x' * 3)

        for sort in ('size:asc', 'size:desc'):
            seen, _ = self.follow_pages('limit=1&sort=%s' % sort)
            self.assertEqual(sorted(ids), sorted(seen), sort)

    def test_list_paging_with_filter_keeps_filter(self):
        wanted = self.create_many(3, name='a')
        self.create_many(3, name='b')

        seen, _ = self.follow_pages('limit=1&name=a')

        self.assertEqual(sorted(wanted), sorted(seen))


class ListSortTest(ListTestCase):

    def setUp(self):
        super().setUp()
        self.first = self.create_at(T0, name='b', disk_format='raw')
        self.second = self.create_at(T0 + datetime.timedelta(seconds=1),
                                     name='c', disk_format='qcow2')
        self.third = self.create_at(T0 + datetime.timedelta(seconds=2),
                                    name='a', disk_format='iso')

    def test_list_default_sort_is_created_at_desc(self):
        self.assertEqual([self.third, self.second, self.first],
                         self.list_ids())

    def test_list_sort_key_name_defaults_to_desc(self):
        self.assertEqual([self.second, self.first, self.third],
                         self.list_ids('sort_key=name'))

    def test_list_sort_key_with_sort_dir_asc_orders_ascending(self):
        self.assertEqual([self.third, self.first, self.second],
                         self.list_ids('sort_key=name&sort_dir=asc'))

    def test_list_sort_dir_alone_applies_to_created_at(self):
        self.assertEqual([self.first, self.second, self.third],
                         self.list_ids('sort_dir=asc'))

    def test_list_sort_param_with_direction_orders_by_it(self):
        self.assertEqual([self.third, self.first, self.second],
                         self.list_ids('sort=name:asc'))

    def test_list_sort_param_without_direction_is_desc(self):
        self.assertEqual([self.first, self.second, self.third],
                         self.list_ids('sort=disk_format'))

    def test_list_sort_param_several_keys_orders_by_each(self):
        extra = self.create_at(T0 + datetime.timedelta(seconds=3), name='a')

        self.assertEqual([extra, self.third, self.first, self.second],
                         self.list_ids('sort=name:asc,created_at:desc'))

    def test_list_several_sort_keys_with_one_dir_applies_it_to_all(self):
        extra = self.create_at(T0 + datetime.timedelta(seconds=3), name='a')

        self.assertEqual([self.third, extra, self.first, self.second],
                         self.list_ids('sort_key=name&sort_key=created_at'
                                       '&sort_dir=asc'))

    def test_list_several_sort_keys_with_as_many_dirs_pairs_them(self):
        extra = self.create_at(T0 + datetime.timedelta(seconds=3), name='a')

        self.assertEqual([extra, self.third, self.first, self.second],
                         self.list_ids('sort_key=name&sort_dir=asc'
                                       '&sort_key=created_at&sort_dir=desc'))

    def test_list_equal_sort_values_are_ordered_by_created_at(self):
        # Glance breaks ties on created_at, then id, in the direction of
        # the single sort_dir given; ids here sort the other way round.
        ids = ['%08d-0000-4000-8000-000000000000' % n for n in (3, 2, 1)]
        for seconds, image_id in enumerate(ids):
            self.create_at(T0 + datetime.timedelta(minutes=1, seconds=seconds),
                           id=image_id, name='same')

        self.assertEqual(ids, self.list_ids('name=same&sort_key=name'
                                            '&sort_dir=asc'))

    def test_list_unknown_sort_key_returns_400(self):
        self.assertFault(self.api_get('/v2/images?sort_key=owner'), 400,
                         'owner')

    def test_list_unknown_sort_dir_returns_400(self):
        self.assertFault(self.api_get('/v2/images?sort_dir=up'), 400, 'up')

    def test_list_unknown_sort_param_key_returns_400(self):
        self.assertFault(self.api_get('/v2/images?sort=owner:asc'), 400)

    def test_list_unknown_sort_param_dir_returns_400(self):
        self.assertFault(self.api_get('/v2/images?sort=name:up'), 400)

    def test_list_sort_with_sort_key_returns_400(self):
        self.assertFault(self.api_get('/v2/images?sort=name&sort_key=name'),
                         400)

    def test_list_more_sort_dirs_than_keys_returns_400(self):
        self.assertFault(self.api_get('/v2/images?sort_key=name'
                                      '&sort_dir=asc&sort_dir=desc'), 400)

    def test_list_sort_dirs_not_matching_keys_returns_400(self):
        self.assertFault(self.api_get('/v2/images?sort_key=name&sort_key=id'
                                      '&sort_key=size&sort_dir=asc'
                                      '&sort_dir=desc'), 400)


class ListFilterTest(ListTestCase):

    def test_list_filter_name_returns_exact_matches(self):
        wanted = self.create_image(name='cirros')['id']
        self.create_image(name='cirros-2')

        self.assertEqual([wanted], self.list_ids('name=cirros'))

    def test_list_filter_name_eq_operator_returns_match(self):
        wanted = self.create_image(name='cirros')['id']

        self.assertEqual([wanted], self.list_ids('name=eq:cirros'))

    def test_list_filter_name_with_colon_is_literal(self):
        wanted = self.create_image(name='a:b')['id']

        self.assertEqual([wanted], self.list_ids('name=a:b'))

    def test_list_filter_name_in_returns_each_name(self):
        ids = {self.create_image(name=n)['id'] for n in ('a', 'b')}
        self.create_image(name='c')

        self.assertEqual(ids, set(self.list_ids('name=in:a,b')))

    def test_list_filter_name_in_with_quoted_comma(self):
        # Glance's api-ref example: name=in:"glass, darkly",share me
        ids = {self.create_image(name=n)['id']
               for n in ('glass, darkly', 'share me')}
        self.create_image(name='glass')

        query = urllib.parse.urlencode(
            {'name': 'in:"glass, darkly",share me'})
        self.assertEqual(ids, set(self.list_ids(query)))

    def test_list_filter_name_in_with_unclosed_quote_returns_400(self):
        query = urllib.parse.urlencode({'name': 'in:"glass,share'})

        self.assertFault(self.api_get('/v2/images?' + query), 400)

    def test_list_filter_id_in_returns_those_ids(self):
        ids = [self.create_image()['id'] for _ in range(3)]

        self.assertEqual(set(ids[:2]),
                         set(self.list_ids('id=in:%s,%s' % tuple(ids[:2]))))

    def test_list_filter_status_returns_matching(self):
        queued = self.create_image()['id']
        active = self.create_image()['id']
        self.activate_image(active)

        self.assertEqual([queued], self.list_ids('status=queued'))

    def test_list_filter_status_in_returns_each_status(self):
        queued = self.create_image()['id']
        active = self.create_image()['id']
        self.activate_image(active)

        self.assertEqual({queued, active},
                         set(self.list_ids('status=in:queued,active')))

    def test_list_filter_disk_format_returns_matching(self):
        wanted = self.create_image(disk_format='qcow2')['id']
        self.create_image(disk_format='raw')

        self.assertEqual([wanted], self.list_ids('disk_format=qcow2'))

    def test_list_filter_container_format_in_returns_each(self):
        ids = {self.create_image(container_format=f)['id']
               for f in ('bare', 'ovf')}
        self.create_image(container_format='docker')

        self.assertEqual(ids, set(self.list_ids(
            'container_format=in:bare,ovf')))

    def test_list_filter_owner_returns_owned(self):
        wanted = self.create_image()['id']
        self.create_image(_admin=True, owner=base.PROJECT_B)

        self.assertEqual([wanted], self.list_ids('owner=%s' % base.PROJECT_A,
                                                 admin=True))

    def test_list_filter_size_range_returns_sizes_within(self):
        ids = {}
        for size in (5, 10, 20):
            ids[size] = self.create_image()['id']
            self.activate_image(ids[size], b'x' * size)
        self.create_image()

        self.assertEqual([ids[10]], self.list_ids('size_min=6&size_max=10'))

    def test_list_filter_size_min_non_integer_returns_400(self):
        self.assertFault(self.api_get('/v2/images?size_min=big'), 400)

    def test_list_integer_filter_beyond_64_bits_returns_400(self):
        for name in ('size_min', 'size_max', 'size', 'virtual_size',
                     'min_ram', 'min_disk'):
            for value in ('99999999999999999999999', str(2 ** 63)):
                resp = self.api_get('/v2/images?%s=%s' % (name, value))

                self.assertFault(resp, 400, '%s param must not be greater '
                                 'than 9223372036854775807' % name)

    def test_list_integer_filter_of_64_bits_returns_200(self):
        self.create_image()
        for name in ('size_min', 'size_max', 'size', 'virtual_size',
                     'min_ram', 'min_disk'):
            self.list_images('%s=%d' % (name, 2 ** 63 - 1))

    def test_list_query_not_utf8_returns_400(self):
        for query in ('name=%ff', 'tag=%c0%af', '%ff=x', 'sort_key=%ed%a0%80'):
            resp = self.api_get('/v2/images?' + query)

            self.assertFault(resp, 400, 'The request query string is not '
                             'valid UTF-8.')

    def test_list_filter_checksum_returns_matching(self):
        wanted = self.create_image()['id']
        self.activate_image(wanted, b'abc')
        other = self.create_image()['id']
        self.activate_image(other, b'abd')

        self.assertEqual([wanted], self.list_ids(
            'checksum=900150983cd24fb0d6963f7d28e17f72'))

    def test_list_filter_os_hash_value_returns_matching(self):
        wanted = self.create_image()['id']
        image = self.activate_image(wanted, b'abc')
        other = self.create_image()['id']
        self.activate_image(other, b'abd')

        self.assertEqual([wanted], self.list_ids(
            'os_hash_value=%s' % image['os_hash_value']))

    def test_list_filter_min_ram_returns_matching(self):
        wanted = self.create_image(min_ram=512)['id']
        self.create_image(min_ram=256)

        self.assertEqual([wanted], self.list_ids('min_ram=512'))

    def test_list_filter_min_ram_non_integer_returns_400(self):
        self.assertFault(self.api_get('/v2/images?min_ram=lots'), 400)

    def test_list_filter_tag_returns_tagged(self):
        wanted = self.create_image(tags=['x', 'y'])['id']
        self.create_image(tags=['y'])

        self.assertEqual([wanted], self.list_ids('tag=x'))

    def test_list_filter_several_tags_must_all_match(self):
        wanted = self.create_image(tags=['x', 'y'])['id']
        self.create_image(tags=['x'])
        self.create_image(tags=['y'])

        self.assertEqual([wanted], self.list_ids('tag=x&tag=y'))

    def test_list_filter_protected_true_returns_protected(self):
        wanted = self.create_image(protected=True)['id']
        self.create_image()

        self.assertEqual([wanted], self.list_ids('protected=true'))

    def test_list_filter_protected_false_returns_unprotected(self):
        self.create_image(protected=True)
        wanted = self.create_image()['id']

        self.assertEqual([wanted], self.list_ids('protected=false'))

    def test_list_filter_protected_not_boolean_returns_400(self):
        self.assertFault(self.api_get('/v2/images?protected=maybe'), 400)

    def test_list_leaves_out_hidden_images_by_default(self):
        self.create_image(os_hidden=True)
        wanted = self.create_image()['id']

        self.assertEqual([wanted], self.list_ids())

    def test_list_filter_os_hidden_true_lists_only_hidden(self):
        wanted = self.create_image(os_hidden=True)['id']
        self.create_image()

        self.assertEqual([wanted], self.list_ids('os_hidden=true'))

    def test_list_filter_os_hidden_not_boolean_returns_400(self):
        self.assertFault(self.api_get('/v2/images?os_hidden=perhaps'), 400)

    def test_list_filter_extra_property_returns_exact_matches(self):
        wanted = self.create_image(os_distro='ubuntu')['id']
        self.create_image(os_distro='ubuntu-core')
        self.create_image()

        self.assertEqual([wanted], self.list_ids('os_distro=ubuntu'))

    def test_list_filter_two_extra_properties_must_both_match(self):
        wanted = self.create_image(a='1', b='2')['id']
        self.create_image(a='1', b='3')

        self.assertEqual([wanted], self.list_ids('a=1&b=2'))

    def test_list_filter_changes_since_returns_400(self):
        self.assertFault(self.api_get(
            '/v2/images?changes-since=2020-01-01T00:00:00Z'), 400,
            'changes-since')

    def test_list_filter_member_status_unknown_returns_400(self):
        self.assertFault(self.api_get('/v2/images?member_status=maybe'), 400)

    def test_list_filter_member_status_all_returns_200(self):
        self.create_image()

        self.assertEqual(1, len(self.list_ids('member_status=all')))


class ListTimeFilterTest(ListTestCase):

    def setUp(self):
        super().setUp()
        self.ids = self.create_many(3)
        self.middle = (T0 + datetime.timedelta(seconds=1)).strftime(
            '%Y-%m-%dT%H:%M:%SZ')

    def _query(self, key, op):
        value = '%s:%s' % (op, self.middle) if op else self.middle
        return urllib.parse.urlencode({key: value})

    def test_list_created_at_gt_returns_newer(self):
        self.assertEqual([self.ids[2]],
                         self.list_ids(self._query('created_at', 'gt')))

    def test_list_created_at_gte_returns_same_or_newer(self):
        self.assertEqual([self.ids[2], self.ids[1]],
                         self.list_ids(self._query('created_at', 'gte')))

    def test_list_created_at_lt_returns_older(self):
        self.assertEqual([self.ids[0]],
                         self.list_ids(self._query('created_at', 'lt')))

    def test_list_created_at_lte_returns_same_or_older(self):
        self.assertEqual([self.ids[1], self.ids[0]],
                         self.list_ids(self._query('created_at', 'lte')))

    def test_list_created_at_eq_returns_same(self):
        self.assertEqual([self.ids[1]],
                         self.list_ids(self._query('created_at', 'eq')))

    def test_list_created_at_neq_returns_others(self):
        self.assertEqual([self.ids[2], self.ids[0]],
                         self.list_ids(self._query('created_at', 'neq')))

    def test_list_created_at_without_operator_is_eq(self):
        # Glance recognises a bare ISO 8601 time despite its colons.
        self.assertEqual([self.ids[1]],
                         self.list_ids(self._query('created_at', None)))

    def test_list_created_at_with_offset_is_normalised_to_utc(self):
        query = urllib.parse.urlencode(
            {'created_at': 'eq:2024-01-01T13:00:01+01:00'})

        self.assertEqual([self.ids[1]], self.list_ids(query))

    def test_list_updated_at_gt_returns_changed(self):
        self.clock.return_value = T0 + datetime.timedelta(hours=1)
        self.api_put('/v2/images/%s/tags/t' % self.ids[0])

        self.assertEqual([self.ids[0]], self.list_ids(
            'updated_at=gt:2024-01-01T12:00:10Z'))

    def test_list_updated_at_of_never_changed_image_is_created_at(self):
        # A new image shows updated_at == created_at; filters agree.
        self.assertEqual([self.ids[1]],
                         self.list_ids(self._query('updated_at', 'eq')))

    def test_list_sort_by_updated_at_uses_shown_value(self):
        self.clock.return_value = T0 + datetime.timedelta(hours=1)
        self.api_put('/v2/images/%s/tags/t' % self.ids[1])

        self.assertEqual([self.ids[1], self.ids[2], self.ids[0]],
                         self.list_ids('sort=updated_at:desc'))

    def test_list_created_at_unknown_operator_returns_400(self):
        self.assertFault(self.api_get(
            '/v2/images?' + self._query('created_at', 'near')), 400)

    def test_list_created_at_not_a_time_returns_400(self):
        self.assertFault(self.api_get('/v2/images?created_at=gt:yesterday'),
                         400)


class ListVisibilityTest(ListTestCase):
    """Who sees what in a list, Glance's rules without image members."""

    def setUp(self):
        super().setUp()
        self.mine = {v: self.create_image(visibility=v)['id']
                     for v in ('private', 'shared', 'community')}
        self.theirs = {v: self.create_image(visibility=v,
                                            _project=base.PROJECT_B)['id']
                       for v in ('private', 'shared', 'community')}
        self.public = self.create_image(visibility='public', _admin=True,
                                        owner=base.PROJECT_B)['id']

    def test_list_default_shows_own_images_and_public(self):
        self.assertEqual(set(self.mine.values()) | {self.public},
                         set(self.list_ids()))

    def test_list_default_leaves_out_others_community_images(self):
        self.assertNotIn(self.theirs['community'], self.list_ids())

    def test_list_visibility_community_shows_others_community_images(self):
        self.assertEqual({self.mine['community'], self.theirs['community']},
                         set(self.list_ids('visibility=community')))

    def test_list_visibility_public_returns_public_only(self):
        self.assertEqual([self.public], self.list_ids('visibility=public'))

    def test_list_visibility_private_shows_only_own(self):
        self.assertEqual([self.mine['private']],
                         self.list_ids('visibility=private'))

    def test_list_visibility_shared_shows_only_own(self):
        self.assertEqual([self.mine['shared']],
                         self.list_ids('visibility=shared'))

    def test_list_visibility_all_adds_community_not_others_private(self):
        expected = (set(self.mine.values()) | {self.public,
                                               self.theirs['community']})

        self.assertEqual(expected, set(self.list_ids('visibility=all')))

    def test_list_unknown_visibility_returns_400(self):
        self.assertFault(self.api_get('/v2/images?visibility=open'), 400)

    def test_list_admin_default_shows_others_private_images(self):
        ids = self.list_ids(project=base.ADMIN_PROJECT, admin=True)

        self.assertIn(self.theirs['private'], ids)

    def test_list_admin_default_leaves_out_others_community_images(self):
        # Glance applies the community rule to admins too.
        ids = self.list_ids(project=base.ADMIN_PROJECT, admin=True)

        self.assertNotIn(self.theirs['community'], ids)

    def test_list_admin_visibility_all_shows_every_image(self):
        ids = self.list_ids('visibility=all', project=base.ADMIN_PROJECT,
                            admin=True)

        self.assertEqual(set(self.mine.values()) | set(self.theirs.values())
                         | {self.public}, set(ids))


class ParseTest(test_base.TestCase):
    """list_params.parse on its own: what the repository receives."""

    def _parse(self, query):
        return list_params.parse(webob.Request.blank('/?' + query).params,
                                 self.conf)

    def test_parse_no_params_gives_defaults(self):
        parsed = self._parse('')

        self.assertEqual({'filters': {}, 'marker': None, 'limit': 25,
                          'sort_keys': ['created_at'], 'sort_dirs': ['desc']},
                         parsed)

    def test_parse_in_keeps_backslash_escaped_quote(self):
        parsed = self._parse(urllib.parse.urlencode(
            {'name': r'in:"a\"b",c'}))

        self.assertEqual(('in', [r'a\"b', 'c']), parsed['filters']['name'])

    def test_parse_in_with_empty_item_keeps_it(self):
        parsed = self._parse(urllib.parse.urlencode({'name': 'in:a,,b'}))

        self.assertEqual(('in', ['a', '', 'b']), parsed['filters']['name'])

    def test_parse_quote_not_after_comma_returns_400(self):
        self.assertRaises(exception.BadRequest, self._parse,
                          urllib.parse.urlencode({'name': 'in:a"b",c'}))

    def test_parse_text_after_closing_quote_returns_400(self):
        self.assertRaises(exception.BadRequest, self._parse,
                          urllib.parse.urlencode({'name': 'in:"a"b,c'}))

    def test_parse_time_filter_is_normalised_naive_utc(self):
        parsed = self._parse(urllib.parse.urlencode(
            {'updated_at': 'lt:2024-01-01T01:00:00+01:00'}))

        self.assertEqual([('lt', datetime.datetime(2024, 1, 1))],
                         parsed['filters']['updated_at'])
