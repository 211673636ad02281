"""Base of the tests against a real keystone: ``imageapi-api`` in the keystone flavor.

Each test gets its own server and state directory (as in ``ServerTestCase``), with a
config file whose ``[keystone_authtoken]`` points at the keystone of the test run, so
authtoken validates real tokens there. Without a keystone the tests skip, or fail
under CI (see fixtures.require_keystone).
"""

from imageapi.tests.functional import base as functional_base
from imageapi.tests.functional.keystone import fixtures as ks_fixtures


class KeystoneServerTestCase(functional_base.RealServerTestCase):
    """A fresh ``imageapi-api --config-file <keystone flavor>`` per test.

    Set ``extra_config`` (``{section: {option: value}}``) on a subclass to
    add options to the config file.
    """

    workers = 1
    extra_config = None

    def setUp(self):
        super().setUp()
        ks_fixtures.require_keystone(self)
        self.keystone = self.useFixture(
            ks_fixtures.Keystone(extra_config=self.extra_config))
        self.start_server(workers=self.workers,
                          args=['--config-file', self.keystone.config_file])

    def client(self, user=None, project=None):
        """A client sending ``user``'s token for ``project``; none if no user."""
        headers = {}
        if user is not None:
            headers['X-Auth-Token'] = self.keystone.token(user, project)
        return self.server.client(headers=headers)

    def project_id(self, name):
        return self.keystone.server.projects[name]
