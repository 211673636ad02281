"""Tests of the S3 driver that need no S3: endpoints, locations, options.

Everything that moves bytes runs against a real radosgw in
imageapi/tests/functional/ceph/ (``tox -e ceph``).
"""

from oslo_config import cfg

from imageapi.common import exception
from imageapi.conf import store as store_conf
from imageapi.store import s3
from imageapi.tests import base

IMAGE_ID = '6bbe7cc2-eae7-4c0f-b50d-a7160b0c6a86'


class EndpointTestCase(base.TestCase):

    def test_endpoint_http(self):
        self.assertEqual(('http://127.0.0.1:7480', 's3', '127.0.0.1:7480'),
                         s3.endpoint('http://127.0.0.1:7480/'))

    def test_endpoint_https_gives_s3_https_scheme(self):
        self.assertEqual(('https://s3.example.com', 's3+https',
                          's3.example.com'),
                         s3.endpoint('https://s3.example.com'))

    def test_endpoint_without_scheme_is_http(self):
        self.assertEqual(('http://s3.example.com', 's3', 's3.example.com'),
                         s3.endpoint('s3.example.com'))

    def test_endpoint_other_scheme_refused(self):
        for host in ('ftp://s3.example.com', 'http://'):
            self.assertRaises(exception.BackendUnavailable, s3.endpoint,
                              host)


class ParseLocationTestCase(base.TestCase):

    def test_parse_location_each_scheme(self):
        for scheme in ('s3', 's3+http', 's3+https'):
            self.assertEqual(
                ('s3.example.com', 'images', IMAGE_ID),
                s3.parse_location('%s://s3.example.com/images/%s'
                                  % (scheme, IMAGE_ID)))

    def test_parse_location_drops_credentials(self):
        # Glance writes the keys into the location; a secret may hold '/'.
        self.assertEqual(
            ('s3.example.com:8080', 'images', IMAGE_ID),
            s3.parse_location('s3://AKIA:se/cr@et@s3.example.com:8080/'
                              'images/%s' % IMAGE_ID))

    def test_parse_location_other_forms_not_found(self):
        for location in ('s3://s3.example.com/images',
                         's3://s3.example.com//%s' % IMAGE_ID,
                         'swift://s3.example.com/images/%s' % IMAGE_ID,
                         'images/%s' % IMAGE_ID, None):
            self.assertRaises(exception.StoredDataNotFound,
                              s3.parse_location, location)


class DriverTestCase(base.TestCase):
    """What S3Driver decides before it sends anything."""

    def setUp(self):
        super().setUp()
        if s3.boto3 is None:
            self.skipTest('boto3 is not installed (test-requirements.txt)')
        self.flags(s3_store_host='https://s3.example.com',
                   s3_store_access_key='access', s3_store_secret_key='secret',
                   s3_store_bucket='images', group='s3_store')

    def test_location_is_glances_without_credentials(self):
        driver = s3.S3Driver(self.conf)

        self.assertEqual('s3+https://s3.example.com/images/%s' % IMAGE_ID,
                         driver.location(IMAGE_ID))

    def test_sizes_from_mib_options(self):
        self.flags(s3_store_large_object_size=7,
                   s3_store_large_object_chunk_size=6, group='s3_store')

        properties = s3.S3Driver(self.conf).properties()

        self.assertEqual((7 * 1048576, 6 * 1048576),
                         (properties['large_object_size'],
                          properties['large_object_chunk_size']))

    def test_missing_required_option_is_503_naming_it(self):
        self.flags(s3_store_bucket=None, group='s3_store')

        error = self.assertRaises(exception.BackendUnavailable, s3.S3Driver,
                                  self.conf)

        self.assertIn('[s3_store] s3_store_bucket is required', str(error))

    def test_other_host_or_bucket_not_found_without_request(self):
        driver = s3.S3Driver(self.conf)

        for location in ('s3+https://other.example.com/images/%s' % IMAGE_ID,
                         's3+https://s3.example.com/other/%s' % IMAGE_ID,
                         's3+https://s3.example.com/images/a.b'):
            self.assertRaises(exception.StoredDataNotFound, driver.get_size,
                              location)


class OptionsTestCase(base.TestCase):

    def test_defaults_are_glances(self):
        opts = self.conf.s3_store
        self.assertEqual(
            (None, None, None, None, False, 'auto', 100, 10),
            (opts.s3_store_host, opts.s3_store_access_key,
             opts.s3_store_secret_key, opts.s3_store_bucket,
             opts.s3_store_create_bucket_on_put,
             opts.s3_store_bucket_url_format, opts.s3_store_large_object_size,
             opts.s3_store_large_object_chunk_size))

    def test_part_size_below_s3_minimum_refused(self):
        self.assertRaises(ValueError, self.flags,
                          s3_store_large_object_chunk_size=4,
                          group='s3_store')

    def test_backend_group_gets_s3_options(self):
        conf = cfg.ConfigOpts()
        store_conf.register_backend_opts(conf, 'cloud', 's3')
        conf([])

        self.assertEqual(100, conf.cloud.s3_store_large_object_size)
