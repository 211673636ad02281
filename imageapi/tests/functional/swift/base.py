"""Base of the tests against a real Swift: options, a container per test, cleanup.

The Swift comes from the environment that tools/swift/start-swift.sh prints (ST_AUTH,
ST_USER, ST_KEY: tempauth); ``tox -e swift`` starts one through
tools/swift/run-with-swift.sh. Without it the tests skip, unless
IMAGEAPI_TEST_REQUIRE_SWIFT is set (as ``tox -e swift`` does): then they fail.
"""

import http.client
import json
import os
import urllib.parse
import uuid

from imageapi.store import swift
from imageapi.store import swift_connection
from imageapi.tests import base

REQUIRE_ENV = 'IMAGEAPI_TEST_REQUIRE_SWIFT'
_ENV = ('ST_AUTH', 'ST_USER', 'ST_KEY')


def swift_options(container):
    """``{option: value}`` of [swift_store] for this run's Swift, or None."""
    if not all(os.environ.get(name) for name in _ENV):
        return None
    return {'swift_store_auth_version': '1',
            'swift_store_auth_address': os.environ['ST_AUTH'],
            'swift_store_user': os.environ['ST_USER'],
            'swift_store_key': os.environ['ST_KEY'],
            'swift_store_container': container,
            'swift_store_create_container_on_put': True}


def require_swift(testcase, container):
    """The [swift_store] options for ``container``; skip if there is no Swift."""
    options = swift_options(container)
    if options is None:
        message = ('no Swift: %s are unset (tools/swift/start-swift.sh '
                   'prints them)' % ', '.join(_ENV))
        if os.environ.get(REQUIRE_ENV):
            testcase.fail('%s [%s is set: failing, not skipping]'
                          % (message, REQUIRE_ENV))
        testcase.skipTest(message)
    return options


def max_file_size():
    """Swift's max_file_size (bytes), from the proxy's /info."""
    parts = urllib.parse.urlsplit(os.environ['ST_AUTH'])
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request('GET', '/info')
        return json.loads(conn.getresponse().read())['swift']['max_file_size']
    finally:
        conn.close()


class SwiftTestCase(base.TestCase):
    """Options for this run's Swift, with a container of its own per test.

    ``self.container`` is the base name (swift_store_container); every
    container whose name starts with it is emptied and removed after the
    test. ``self.swift`` is a SwiftConnection of the same account, to look
    behind the driver's back.
    """

    def setUp(self):
        super().setUp()
        self.container = 'imageapi-test-%s' % uuid.uuid4().hex[:12]
        self.swift_options = require_swift(self, self.container)
        for name, value in self.swift_options.items():
            self.flags(group='swift_store', **{name: value})
        self.swift = swift_connection.SwiftConnection(self.conf.swift_store)
        # Whichever connection self.swift is by then (a test may replace it).
        self.addCleanup(lambda: self.swift.close())
        self.addCleanup(self.remove_containers)

    def swift_driver(self):
        """A SwiftDriver on this test's container; closed after the test."""
        driver = swift.SwiftDriver(self.conf)
        self.addCleanup(driver.close)
        return driver

    def manifest_segments(self, image_id, container=None):
        """Names of the segments the manifest of ``image_id`` lists, if any."""
        response = self.swift.request(
            'GET', container or self.container, image_id,
            query={'multipart-manifest': 'get'})
        if (response.status != 200 or response.header(
                'X-Static-Large-Object', '').lower() != 'true'):
            return []
        return [segment['name'].split('/', 2)[2]
                for segment in json.loads(response.body)]

    def leftovers(self, image_id, container=None):
        """Names under ``<image_id>.`` that no manifest of the image lists.

        Markers and segments of unfinished uploads: what an upload must
        not leave behind.
        """
        listed = set(self.manifest_segments(image_id, container))
        return [name for name in self.object_names(image_id + '.', container)
                if name not in listed]

    def object_names(self, prefix='', container=None):
        """Names in ``container`` (the base one) that start with ``prefix``."""
        response = self.swift.request(
            'GET', container or self.container,
            query={'prefix': prefix, 'format': 'json'})
        if response.status == 404:
            return []
        self.assertEqual(200, response.status)
        return [entry['name'] for entry in json.loads(response.body)]

    def containers(self):
        """This test's containers: those whose names start with its base."""
        response = self.swift.request(
            'GET', None, query={'prefix': self.container, 'format': 'json'})
        self.assertIn(response.status, (200, 204))
        return [entry['name'] for entry in json.loads(response.body or b'[]')]

    def remove_containers(self):
        for container in self.containers():
            for name in self.object_names(container=container):
                self.swift.request('DELETE', container, name)
            self.swift.request('DELETE', container)
