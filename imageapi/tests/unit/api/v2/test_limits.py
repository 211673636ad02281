"""Keystone unified limits (use_keystone_limits) with oslo.limit's keystone calls faked.

``_FakeEnforcer`` stands in for ``oslo_limit.limit.Enforcer`` (the network edge): it
keeps oslo.limit's flat-model arithmetic and exception over a dict of limits.
"""

import os

import fixtures as pyfixtures
from oslo_limit import exception as limit_exc
from oslo_limit import limit
from oslo_utils import units

from imageapi.common import config
from imageapi.db import uploads as db_uploads
from imageapi import service
from imageapi.tests import base
from imageapi.tests import fixtures
from imageapi.tests.unit.api.v2 import test_image_data

PROJECT = test_image_data.PROJECT
MiB = units.Mi


class _FakeEnforcer:
    limits = {}

    def __init__(self, callback):
        self.callback = callback

    def enforce(self, project_id, deltas):
        usage = self.callback(project_id, list(deltas))
        over = [limit_exc.OverLimitInfo(name, self.limits[name], usage[name],
                                        delta)
                for name, delta in deltas.items()
                if usage[name] + delta > self.limits[name]]
        if over:
            raise limit_exc.ProjectOverLimit(project_id, over)

    def get_project_limits(self, project_id, names):
        return [(name, self.limits[name]) for name in names]

    def calculate_usage(self, project_id, names):
        usage = self.callback(project_id, names)
        return {name: limit.ProjectUsage(self.limits[name], usage[name])
                for name in names}


class KeystoneLimitsTest(test_image_data.ImageDataTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(pyfixtures.MockPatch(
            'imageapi.common.config.load_global_conf'))
        self.useFixture(pyfixtures.MockPatchObject(
            limit, 'Enforcer', _FakeEnforcer))
        self.useFixture(pyfixtures.MockPatchObject(_FakeEnforcer, 'limits', {
            'image_size_total': 1, 'image_stage_total': 1,
            'image_count_total': 3, 'image_count_uploading': 1}))
        self.flags(use_keystone_limits=True)
        self.app = self.load_paste_app()

    def test_create_past_image_count_total_413(self):
        for _ in range(3):
            self.assertEqual(201, self.request('POST', '/v2/images', headers={
                'Content-Type': 'application/json'}, body=b'{}',
                content_type='application/json').status_int)

        resp = self.request('POST', '/v2/images', body=b'{}',
                            content_type='application/json')

        self.assertEqual(413, resp.status_int)
        self.assertIn('Resource image_count_total is over limit of 3',
                      resp.json['message'])

    def test_upload_declared_over_size_total_413_before_reading(self):
        image_id = self.create()
        body = test_image_data._Body(b'x' * (2 * MiB), fail_at=0,
                                     error=AssertionError('read'))

        resp = self.upload(image_id, body)

        self.assertEqual(413, resp.status_int)
        self.assertIn('image_size_total is over limit of 1',
                      resp.json['message'])
        self.assertEqual(0, body.pos)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_chunked_over_size_total_413_mid_stream(self):
        image_id = self.create()

        resp = self.upload(image_id, b'x' * (MiB + 1), chunked=True)

        self.assertEqual(413, resp.status_int)
        self.assertQueuedAndEmpty(image_id)
        self.assertEqual([], self.stored_files())
        self.assertEqual([], self.temp_files())
        self.assertEqual(0, db_uploads.storage_used(self.ctx, PROJECT))

    def test_upload_declared_under_mib_rounding_still_stopped_at_limit(self):
        # Glance's pre-check counts whole MiB (1.5 MiB is delta 1, within
        # a limit of 1); the stream does not let the project pass 1 MiB.
        image_id = self.create()

        resp = self.upload(image_id, b'x' * (MiB + MiB // 2))

        self.assertEqual(413, resp.status_int)
        self.assertQueuedAndEmpty(image_id)

    def test_upload_within_size_total_204(self):
        image_id = self.create()

        resp = self.upload(image_id, b'x' * MiB, chunked=True)

        self.assertEqual(204, resp.status_int)
        self.assertEqual(MiB, db_uploads.storage_used(self.ctx, PROJECT))

    def test_upload_past_image_count_uploading_413_back_to_queued(self):
        other = self.create()
        db_uploads.upload_claim(self.ctx, other, 'claim', None)
        image_id = self.create()

        resp = self.upload(image_id, b'data')

        self.assertEqual(413, resp.status_int)
        self.assertIn('image_count_uploading', resp.json['message'])
        self.assertQueuedAndEmpty(image_id)

    def test_usage_reports_limits_and_usage(self):
        self.upload(self.create(), b'x' * 1024)

        resp = self.request('GET', '/v2/info/usage')

        self.assertEqual({
            'image_size_total': {'limit': 1, 'usage': 0},
            'image_stage_total': {'limit': 1, 'usage': 0},
            'image_count_total': {'limit': 3, 'usage': 1},
            'image_count_uploading': {'limit': 1, 'usage': 0}},
            resp.json['usage'])

    def test_keystone_unreachable_500(self):
        def broken(callback):
            raise limit_exc.SessionInitError('no keystone')
        self.useFixture(pyfixtures.MockPatchObject(limit, 'Enforcer',
                                                   broken))

        resp = self.request('POST', '/v2/images', body=b'{}',
                            content_type='application/json')

        self.assertEqual(500, resp.status_int)
        self.assertNotIn('no keystone', resp.text)


class GlobalConfTest(base.TestCase):

    def test_global_conf_parsed_once_from_the_same_files(self):
        # A file no earlier test loaded, so the first call must parse.
        path = os.path.join(self.state_path, 'limits.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\n')
        self.conf(['--config-file', path], project='imageapi',
                  default_config_files=[], default_config_dirs=[])
        global_conf = self.useFixture(pyfixtures.MockPatch(
            'oslo_config.cfg.CONF')).mock

        config.load_global_conf(self.conf)
        config.load_global_conf(self.conf)

        global_conf.assert_called_once_with(
            ['--config-file', path], project='imageapi',
            default_config_files=[], default_config_dirs=[])

    def test_start_parses_global_conf_only_with_keystone_limits(self):
        load = self.useFixture(pyfixtures.MockPatch(
            'imageapi.common.config.load_global_conf')).mock
        self.useFixture(fixtures.Database())
        self.flags(reap_interval=0, group='upload')

        service.start(self.conf).stop()
        load.assert_not_called()
        self.flags(use_keystone_limits=True)
        service.start(self.conf).stop()
        load.assert_called_once_with(self.conf)
