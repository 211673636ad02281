"""oslo-config-generator over etc/oslo-config-generator/imageapi.conf, as tox -e genconfig."""

import os
import subprocess
import sys

from imageapi.tests import base
from imageapi.tests.functional import server as server_fixture


class TestSampleConfig(base.TestCase):

    def test_sample_has_every_namespace(self):
        script = os.path.join(os.path.dirname(sys.executable),
                              'oslo-config-generator')
        if not os.path.exists(script):
            self.skipTest('oslo-config-generator is not installed')
        output = os.path.join(self.state_path, 'imageapi.conf.sample')
        subprocess.run(
            [script, '--config-file', os.path.join(
                server_fixture.REPO_ROOT, 'etc', 'oslo-config-generator',
                'imageapi.conf'), '--output-file', output],
            check=True, cwd=server_fixture.REPO_ROOT, timeout=120,
            # The options of this checkout, not of an installed copy.
            env=dict(os.environ, PYTHONPATH=server_fixture.REPO_ROOT),
            stdin=subprocess.DEVNULL, capture_output=True)
        with open(output) as sample:
            text = sample.read()
        for group in ('DEFAULT', 'database', 'filesystem_store',
                      'keystone_authtoken', 'paste_deploy', 'rbd_store',
                      's3_store', 'store', 'swift_store', 'wsgi', 'cors',
                      'oslo_middleware'):
            self.assertIn('\n[%s]\n' % group, '\n' + text)
        for line in ('#state_path = ~/.local/share/imageapi',
                     '#image_size_cap = 1099511627776',
                     '#connection = sqlite:///$state_path/imageapi.sqlite',
                     '#flavor = noauth',
                     '#debug = false',
                     '#www_authenticate_uri = <None>',
                     '#allowed_origin = <None>',
                     '#enable_proxy_headers_parsing = false',
                     '#timeout = 120', '#keepalive = 5',
                     '#graceful_timeout = 30', '#cleanup_timeout = 10',
                     '#rbd_store_pool = images',
                     '#s3_store_large_object_chunk_size = 10'):
            self.assertIn('\n%s\n' % line, text)
