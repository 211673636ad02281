"""Tests of the RBD driver that need no Ceph: locations, options, the optional bindings.

Everything that moves bytes runs against a real Ceph in imageapi/tests/functional/ceph/
(``tox -e ceph``).
"""

import fixtures
from oslo_config import cfg

from imageapi.common import exception
from imageapi.conf import store as store_conf
from imageapi.store import rbd
from imageapi.tests import base

FSID = '87fc745f-cecb-4346-b220-6e73dd67ac48'
IMAGE_ID = '6bbe7cc2-eae7-4c0f-b50d-a7160b0c6a86'


class ParseLocationTestCase(base.TestCase):

    def test_parse_location_glance_form(self):
        self.assertEqual(
            (FSID, 'images', IMAGE_ID, 'snap'),
            rbd.parse_location('rbd://%s/images/%s/snap' % (FSID, IMAGE_ID)))

    def test_parse_location_unquotes_parts(self):
        self.assertEqual((FSID, 'my pool', 'a/b', 'snap'),
                         rbd.parse_location('rbd://%s/my%%20pool/a%%2Fb/snap'
                                            % FSID))

    def test_parse_location_other_forms_not_found(self):
        for location in ('rbd://%s' % IMAGE_ID,  # Glance's oldest form
                         'rbd://%s/images/%s' % (FSID, IMAGE_ID),
                         'rbd://%s/images/%s/snap/x' % (FSID, IMAGE_ID),
                         'rbd://%s//%s/snap' % (FSID, IMAGE_ID),
                         'file:///var/lib/images/%s' % IMAGE_ID,
                         None):
            self.assertRaises(exception.StoredDataNotFound,
                              rbd.parse_location, location)


class OptionsTestCase(base.TestCase):

    def test_defaults_are_glances(self):
        opts = self.conf.rbd_store
        self.assertEqual(
            ('images', None, '', 8, 0, False),
            (opts.rbd_store_pool, opts.rbd_store_user,
             opts.rbd_store_ceph_conf, opts.rbd_store_chunk_size,
             opts.rados_connect_timeout, opts.rbd_thin_provisioning))

    def test_chunk_size_mib_gives_object_order(self):
        self.assertEqual([20, 22, 22, 23, 25],
                         [rbd._order(mib) for mib in (1, 4, 5, 8, 32)])

    def test_chunk_size_above_32_refused(self):
        self.assertRaises(ValueError, self.flags, rbd_store_chunk_size=64,
                          group='rbd_store')

    def test_backend_group_gets_rbd_options(self):
        conf = cfg.ConfigOpts()
        store_conf.register_backend_opts(conf, 'ceph', 'rbd')
        conf([])

        self.assertEqual('images', conf.ceph.rbd_store_pool)
        self.assertEqual(0, conf.ceph.weight)


class BindingsTestCase(base.TestCase):

    def test_driver_without_bindings_explains_503(self):
        self.useFixture(fixtures.MonkeyPatch('imageapi.store.rbd.rbd', None))

        error = self.assertRaises(exception.BackendUnavailable,
                                  rbd.RBDDriver, self.conf)

        self.assertEqual(503, error.code)
        self.assertIn('python3-rados and python3-rbd', str(error))
