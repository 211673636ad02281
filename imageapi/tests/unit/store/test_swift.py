"""Tests of the Swift driver that need no Swift: names, locations, checks, options.

Everything that moves bytes runs against a real Swift in
imageapi/tests/functional/swift/ (``tox -e swift``).
"""

from oslo_config import cfg

from imageapi.common import exception
from imageapi.conf import swift_store as swift_conf
from imageapi.store import swift
from imageapi.store import swift_connection
from imageapi.tests import base

IMAGE_ID = '6bbe7cc2-eae7-4c0f-b50d-a7160b0c6a86'
MD5 = 'd41d8cd98f00b204e9800998ecf8427e'


class ContainerNameTestCase(base.TestCase):

    def test_container_name_seed_zero_is_the_base(self):
        self.assertEqual('glance', swift.container_name('glance', 0,
                                                        IMAGE_ID))

    def test_container_name_seed_takes_first_characters(self):
        self.assertEqual('glance_6bbe7',
                         swift.container_name('glance', 5, IMAGE_ID))

    def test_container_name_dashes_kept_but_not_counted(self):
        # glance_store's documented example.
        self.assertEqual(
            'glance_fdae39a1-ba',
            swift.container_name('glance', 10,
                                 'fdae39a1-bac5-4238-aba4-69bcc726e848'))

    def test_container_name_lower_cases_the_id(self):
        self.assertEqual('glance_abc',
                         swift.container_name('glance', 3, 'ABCDEF'))


class CheckEtagTestCase(base.TestCase):

    def response(self, etag):
        return swift_connection.Response(201, {'ETag': etag})

    def test_check_etag_equal_passes(self):
        swift.check_etag('obj', MD5, self.response(MD5))

    def test_check_etag_quoted_passes(self):
        swift.check_etag('obj', MD5, self.response('"%s"' % MD5))

    def test_check_etag_other_raises_checksum_mismatch(self):
        error = self.assertRaises(exception.StorageChecksumMismatch,
                                  swift.check_etag, 'img.seg.000001', MD5,
                                  self.response('0' * 32))

        self.assertIn('img.seg.000001', str(error))
        self.assertEqual(503, error.code)

    def test_check_etag_missing_raises_checksum_mismatch(self):
        self.assertRaises(exception.StorageChecksumMismatch,
                          swift.check_etag, 'obj', MD5,
                          swift_connection.Response(201, {}))


class OfflineDriverTestCase(base.TestCase):
    """A driver whose Swift does not exist: no test here may reach it."""

    def setUp(self):
        super().setUp()
        self.flags(group='swift_store', swift_store_auth_version='1',
                   swift_store_auth_address='http://127.0.0.1:9/auth/v1.0',
                   swift_store_user='test:tester', swift_store_key='x',
                   swift_store_retries=0, swift_store_container='images')
        self.driver = swift.SwiftDriver(self.conf)
        self.addCleanup(self.driver.close)

    def test_init_sizes_are_mib(self):
        self.flags(group='swift_store', swift_store_large_object_size=3,
                   swift_store_large_object_chunk_size=2)

        driver = swift.SwiftDriver(self.conf)

        self.assertEqual(3 * 1024 * 1024, driver.large_object_size)
        self.assertEqual(2 * 1024 * 1024, driver.segment_size)

    def test_location_is_glance_swift_config_form(self):
        self.assertEqual('swift+config://ref1/images/%s' % IMAGE_ID,
                         self.driver.location('images', IMAGE_ID))

    def test_get_foreign_locations_raise_not_found(self):
        for location in (
                'file:///var/lib/images/%s' % IMAGE_ID,
                'swift+config://ref2/images/%s' % IMAGE_ID,
                'swift+http://user:key@swift/v1/images/%s' % IMAGE_ID,
                'swift+config://ref1/other/%s' % IMAGE_ID,
                'swift+config://ref1/images_e0a/%s' % IMAGE_ID,
                'swift+config://ref1/images_/%s' % IMAGE_ID,
                'swift+config://ref1/images/%s.0123.000001' % IMAGE_ID,
                'swift+config://ref1/images/a/b',
                'swift+config://ref1/images/',
                'swift+config://ref1/images',
                None):
            for call in (self.driver.get, self.driver.get_size,
                         self.driver.delete):
                self.assertRaises(exception.StoredDataNotFound, call,
                                  location)

    def test_get_seeded_container_of_the_image_is_parsed(self):
        self.assertEqual(
            ('images_6bb', IMAGE_ID),
            self.driver._parse('swift+config://ref1/images_6bb/%s'
                               % IMAGE_ID))

    def test_get_negative_range_raises_before_any_request(self):
        location = self.driver.location('images', IMAGE_ID)

        self.assertRaises(exception.InvalidRange, self.driver.get, location,
                          offset=-1)
        self.assertRaises(exception.InvalidRange, self.driver.get, location,
                          length=-1)

    def test_invalid_image_id_raises_before_any_request(self):
        for image_id in ('../escape', 'a/b', 'a.b', '', 'a\0b', None):
            self.assertRaises(exception.InvalidParameterValue,
                              self.driver.writer, image_id)
            self.assertRaises(exception.InvalidParameterValue,
                              self.driver.purge, image_id)

    def test_init_without_auth_address_raises_backend_unavailable(self):
        self.flags(group='swift_store', swift_store_auth_address=None)

        error = self.assertRaises(exception.BackendUnavailable,
                                  swift.SwiftDriver, self.conf)
        self.assertIn('swift_store_auth_address', str(error))

    def test_unreachable_swift_raises_backend_unavailable(self):
        self.assertRaises(exception.BackendUnavailable, self.driver.purge,
                          IMAGE_ID)


class OptionsTestCase(base.TestCase):

    def test_register_opts_other_group_has_same_options(self):
        conf = cfg.ConfigOpts()

        swift_conf.register_opts(conf, 'backend_a')
        conf([], default_config_files=[])

        self.assertEqual('glance', conf.backend_a.swift_store_container)
        self.assertEqual(200,
                         conf.backend_a.swift_store_large_object_chunk_size)

    def test_driver_reads_options_of_its_group(self):
        swift_conf.register_opts(self.conf, 'backend_a')
        self.flags(group='backend_a', swift_store_container='elsewhere',
                   swift_store_auth_version='1',
                   swift_store_auth_address='http://127.0.0.1:9/auth/v1.0')

        driver = swift.SwiftDriver(self.conf, group='backend_a')
        self.addCleanup(driver.close)

        self.assertEqual('elsewhere', driver.container)

    def test_list_opts_names_are_glance_stores(self):
        names = {opt.name for opts in swift_conf.list_opts().values()
                 for opt in opts}

        self.assertLessEqual(
            {'swift_store_auth_address', 'swift_store_auth_version',
             'swift_store_user', 'swift_store_key', 'swift_store_container',
             'swift_store_create_container_on_put',
             'swift_store_large_object_size',
             'swift_store_large_object_chunk_size',
             'swift_store_multiple_containers_seed', 'swift_store_region',
             'swift_store_endpoint_type', 'swift_store_service_type',
             'swift_store_auth_insecure', 'swift_store_cacert',
             'swift_store_retry_get_count', 'default_swift_reference'},
            names)

    def test_secrets_are_marked_secret(self):
        secret = {opt.name for opts in swift_conf.list_opts().values()
                  for opt in opts if opt.secret}

        self.assertEqual({'swift_store_user', 'swift_store_key'}, secret)
