"""Base TestCase for imageapi: fresh ConfigOpts, a temp state dir, strict warnings."""

import warnings

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslotest import base

from imageapi.common import config
from imageapi import conf as imageapi_conf
from imageapi import service


class TestCase(base.BaseTestCase):
    """Every test gets its own ConfigOpts with all options registered."""

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        imageapi_conf.register_opts(self.conf)
        self.conf([], project='imageapi', default_config_files=[],
                  default_config_dirs=[])
        self.config_fixture = self.useFixture(
            config_fixture.Config(self.conf))
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=self.state_path)
        self.useFixture(fixtures.MonkeyPatch(
            'imageapi.common.exception.FATAL_FORMAT_ERRORS', True))
        warnings.filterwarnings('error', category=DeprecationWarning,
                                module='^imageapi\\.')
        self.addCleanup(warnings.resetwarnings)

    def load_paste_app(self, name=None):
        """Run the start-up step and load the paste app, as a server does."""
        svc = service.start(self.conf)
        self.addCleanup(svc.stop)
        return config.load_paste_app(self.conf, svc, name=name)

    def flags(self, **kw):
        """Override options: ``group`` names the option group, if any."""
        group = kw.pop('group', None)
        for key, value in kw.items():
            self.config_fixture.config(**{key: value, 'group': group})
