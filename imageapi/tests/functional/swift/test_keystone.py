"""The Swift driver with keystone v3 auth, on a real keystone and a real Swift.

``tox -e swift`` runs Swift under tools/keystone/start-keystone.sh, so that Swift's
proxy takes that keystone's tokens (tools/swift/run-with-swift.sh). Each test adds
Swift to the catalog in a region of its own, with an internal endpoint that leads to
the Swift account of project ``service`` and a public one that leads nowhere, and
authenticates as the service user.
"""

import http.client
import json
import os
import urllib.parse
import uuid

from imageapi.common import exception
from imageapi.store import swift_connection
from imageapi.tests.functional.keystone import fixtures as ks_fixtures
from imageapi.tests.functional.swift import base
from imageapi.tests.unit.store import contract

IMAGE_ID = contract.IMAGE_ID


def _admin_call(server, method, path, body=None):
    """One identity v3 call as the bootstrap admin: the decoded answer."""
    parts = urllib.parse.urlsplit(server.auth_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, parts.path.rstrip('/') + path,
                     body=json.dumps(body) if body is not None else None,
                     headers={'X-Auth-Token': server.token('admin'),
                              'Content-Type': 'application/json'})
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    if response.status // 100 != 2:
        raise ks_fixtures.KeystoneError('%s %s: %d %r' % (
            method, path, response.status, raw[:300]))
    return json.loads(raw) if raw else None


class KeystoneSwiftTest(base.SwiftTestCase):

    def setUp(self):
        super().setUp()
        info = os.environ.get(ks_fixtures.INFO_ENV)
        if not info:
            message = ('no keystone: %s is unset (tox -e swift runs Swift '
                       'under tools/keystone/start-keystone.sh run)'
                       % ks_fixtures.INFO_ENV)
            if os.environ.get(base.REQUIRE_ENV):
                self.fail(message)
            self.skipTest(message)
        self.keystone = ks_fixtures.KeystoneServer.from_file(info)
        self.region = 'swift-test-%s' % uuid.uuid4().hex[:12]
        self.add_catalog_entry()
        user = self.keystone.service_user
        self.flags(group='swift_store', swift_store_auth_version='3',
                   swift_store_auth_address=self.keystone.auth_url,
                   swift_store_user=user,
                   swift_store_key=self.keystone.users[user]['password'],
                   swift_store_project_name=self.keystone.service_project,
                   swift_store_user_domain_name='Default',
                   swift_store_project_domain_name='Default',
                   swift_store_region=self.region,
                   swift_store_endpoint_type='internalURL')
        # Look behind the driver's back in the same account, and empty it
        # while the catalog still leads there (cleanups run last first).
        self.swift = swift_connection.SwiftConnection(self.conf.swift_store)
        self.addCleanup(self.remove_containers)

    def add_catalog_entry(self):
        proxy = urllib.parse.urlsplit(os.environ['ST_AUTH'])
        account = 'AUTH_%s' % self.keystone.projects[
            self.keystone.service_project]
        _admin_call(self.keystone, 'POST', '/regions',
                    {'region': {'id': self.region}})
        self.addCleanup(_admin_call, self.keystone, 'DELETE',
                        '/regions/%s' % self.region)
        service = _admin_call(self.keystone, 'POST', '/services', {
            'service': {'type': 'object-store', 'name': self.region}})
        service_id = service['service']['id']
        # Deleting a service deletes its endpoints.
        self.addCleanup(_admin_call, self.keystone, 'DELETE',
                        '/services/%s' % service_id)
        for interface, url in (
                ('internal', '%s://%s/v1/%s' % (proxy.scheme, proxy.netloc,
                                                account)),
                ('public', 'http://127.0.0.1:9/v1/%s' % account)):
            _admin_call(self.keystone, 'POST', '/endpoints', {'endpoint': {
                'service_id': service_id, 'region_id': self.region,
                'interface': interface, 'url': url}})

    def test_keystone_segmented_round_trip_in_service_account(self):
        driver = self.swift_driver()
        driver.large_object_size = 0
        driver.segment_size = 5000
        data = os.urandom(12345)

        stored = driver.add(IMAGE_ID, contract.pieces(data, 4096), None)

        self.assertEqual(3, len(self.manifest_segments(IMAGE_ID)))
        chunks = driver.get(stored.location, offset=4990, length=20)
        self.assertEqual(data[4990:5010], b''.join(chunks))
        driver.delete(stored.location)
        self.assertEqual([], self.object_names(IMAGE_ID))

    def test_keystone_endpoint_type_picks_catalog_entry(self):
        self.flags(group='swift_store', swift_store_endpoint_type='publicURL',
                   swift_store_retries=0)
        driver = self.swift_driver()

        # The public endpoint of this region leads nowhere.
        self.assertRaises(exception.BackendUnavailable, driver.add, IMAGE_ID,
                          [b'x'], 1)
