"""A real keystone for functional tests: one per test run, real tokens.

``get_server()`` returns the process-wide ``KeystoneServer``: the keystone that
``tools/keystone/start-keystone.sh run`` started for ``tox -e keystone`` (its
``keystone.json`` is named by ``IMAGEAPI_TEST_KEYSTONE_INFO``), or else one that this
process starts from the cached virtualenv and stops when it exits. It raises
``KeystoneUnavailable`` when neither is possible; ``require_keystone()`` turns that
into a skip, except under CI, where it fails. The ``Keystone`` fixture hands the
server to a test. What the keystone holds (users, projects, limits) is described in
tools/keystone/start-keystone.sh and provision.py.
"""

import atexit
import configparser
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.parse

import fixtures

from imageapi.tests.functional import server as server_fixture

INFO_ENV = 'IMAGEAPI_TEST_KEYSTONE_INFO'
START_SCRIPT = os.path.join(server_fixture.REPO_ROOT, 'tools', 'keystone',
                            'start-keystone.sh')
# start-keystone.sh exits with this when its virtualenv is missing and
# KEYSTONE_NO_INSTALL=1 forbids installing it.
_NOT_INSTALLED = 3
_START_TIMEOUT = 300


class KeystoneUnavailable(Exception):
    """No keystone to test against: neither running nor installed."""


class KeystoneError(Exception):
    """keystone answered, but not as expected."""


class KeystoneServer:
    """A running keystone, as described by the keystone.json of its data dir.

    ``projects`` maps project names to ids; ``users`` maps user names to
    ``{'id', 'password', 'project', 'roles'}``; ``registered_limits`` and
    ``project_limits`` give the unified limits of service type ``image``.
    """

    def __init__(self, info):
        self.info = info
        self.url = info['url']
        self.auth_url = info['auth_url']
        self.region = info['region']
        self.projects = info['projects']
        self.users = info['users']
        self.service_user = info['service_user']
        self.service_project = info['service_project']
        self.registered_limits = info['registered_limits']
        self.project_limits = info['project_limits']
        self._tokens = {}
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path):
        with open(path) as info:
            return cls(json.load(info))

    def check(self):
        """Raise KeystoneError unless keystone answers GET /v3 with 200."""
        parsed = urllib.parse.urlsplit(self.auth_url)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port,
                                          timeout=10)
        try:
            conn.request('GET', parsed.path)
            status = conn.getresponse().status
        except OSError as exc:
            raise KeystoneError('keystone at %s does not answer: %s'
                                % (self.auth_url, exc)) from None
        finally:
            conn.close()
        if status != 200:
            raise KeystoneError('keystone at %s answers %d'
                                % (self.auth_url, status))

    # ------------------------------------------------------------ tokens
    def authenticate(self, user, project=None):
        """POST /v3/auth/tokens with ``user``'s password, scoped to a project.

        :param user: a user name, e.g. ``alpha-member``.
        :param project: a project name; the user's own project by default.
        :returns: (token id, the token document of the response body).
        :raises KeystoneError: keystone did not answer 201.
        """
        account = self.users[user]
        project_id = self.projects[project or account['project']]
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'id': account['id'], 'password': account['password']}}},
            'scope': {'project': {'id': project_id}}}}
        response, raw = self._tokens_call(
            'POST', body=json.dumps(body).encode('utf-8'),
            headers={'Content-Type': 'application/json'})
        if response.status != 201:
            raise KeystoneError('token for %s in %s: %d %r'
                                % (user, project, response.status, raw[:300]))
        return response.headers['X-Subject-Token'], json.loads(raw)['token']

    def revoke(self, token):
        """DELETE /v3/auth/tokens: revoke ``token``, on its own authority.

        :raises KeystoneError: keystone did not answer 204.
        """
        response, raw = self._tokens_call(
            'DELETE', headers={'X-Auth-Token': token, 'X-Subject-Token': token})
        if response.status != 204:
            raise KeystoneError('revoking a token: %d %r'
                                % (response.status, raw[:300]))

    def _tokens_call(self, method, body=None, headers=None):
        """One request to keystone's /v3/auth/tokens: (response, body)."""
        parsed = urllib.parse.urlsplit(self.auth_url)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port,
                                          timeout=60)
        try:
            conn.request(method, parsed.path.rstrip('/') + '/auth/tokens',
                         body=body, headers=headers or {})
            response = conn.getresponse()
            return response, response.read()
        finally:
            conn.close()

    def token(self, user, project=None):
        """A real token id for ``user`` in ``project``, fetched once per run."""
        key = (user, project or self.users[user]['project'])
        with self._lock:
            if key not in self._tokens:
                self._tokens[key] = self.authenticate(*key)[0]
            return self._tokens[key]

    def auth_headers(self, user, project=None):
        return {'X-Auth-Token': self.token(user, project)}

    # ------------------------------------------------------------ imageapi config
    def authtoken_options(self):
        """``[keystone_authtoken]`` for imageapi: the service user's password auth.

        memcached_servers stays unset: each worker caches tokens in memory.
        """
        service = self.users[self.service_user]
        return {
            'www_authenticate_uri': self.url,
            'auth_url': self.auth_url,
            'auth_type': 'password',
            'username': self.service_user,
            'password': service['password'],
            'project_name': self.service_project,
            'user_domain_name': 'Default',
            'project_domain_name': 'Default',
            'region_name': self.region,
            'service_type': 'image',
            'service_token_roles_required': 'true',
        }

    def oslo_limit_options(self):
        """``[oslo_limit]`` for unified limits, as Glance configures oslo.limit."""
        service = self.users[self.service_user]
        return {
            'auth_url': self.auth_url,
            'auth_type': 'password',
            'username': self.service_user,
            'password': service['password'],
            'user_domain_name': 'Default',
            'system_scope': 'all',
            'endpoint_id': self.info['image_endpoints']['public'],
            'endpoint_region_name': self.region,
        }

    def write_imageapi_config(self, path, extra=None):
        """Write an imageapi config file for the keystone flavor to ``path``.

        :param extra: ``{section: {option: value}}`` merged over the file,
            e.g. ``{'oslo_limit': server.oslo_limit_options()}``.
        :returns: ``path``.
        """
        parser = configparser.ConfigParser(interpolation=None)
        sections = {'paste_deploy': {'flavor': 'keystone'},
                    'keystone_authtoken': self.authtoken_options()}
        for section, options in (extra or {}).items():
            sections.setdefault(section, {}).update(options)
        for section, options in sections.items():
            if section != 'DEFAULT':
                parser.add_section(section)
            for name, value in options.items():
                parser.set(section, name, str(value))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as config_file:
            parser.write(config_file)
        return path


# ---------------------------------------------------------------- process-wide
_server = None
_failure = None
_server_lock = threading.Lock()


def in_ci():
    return os.environ.get('CI', '').lower() in ('1', 'true', 'yes')


def get_server():
    """The keystone of this test run, started on first use.

    :raises KeystoneUnavailable: none is running and none is installed.
    :raises RuntimeError: start-keystone.sh failed; KeystoneError: the
        keystone of INFO_ENV does not answer. Failures are remembered, not
        retried.
    """
    global _server, _failure
    with _server_lock:
        if _server is None and _failure is None:
            try:
                info = os.environ.get(INFO_ENV)
                server = (KeystoneServer.from_file(info) if info
                          else _start_own())
                server.check()
                _server = server
            except Exception as exc:
                _failure = exc
        if _failure is not None:
            raise _failure
        return _server


def _start_own():
    """Start a keystone for this process from the cached virtualenv."""
    # NOTE: not tempfile's default dir: oslotest points it at a directory of
    # the current test, removed (with keystone's database) when that ends.
    base = tempfile.mkdtemp(prefix='imageapi-keystone-',
                            dir=os.environ.get('TMPDIR') or '/tmp')
    env = dict(os.environ, KEYSTONE_DATA=os.path.join(base, 'data'),
               KEYSTONE_NO_INSTALL='1', KEYSTONE_PARENT_PID=str(os.getpid()))
    result = subprocess.run(
        ['bash', START_SCRIPT, 'start'], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=_START_TIMEOUT, check=False)
    output = result.stdout.decode('utf-8', 'replace')
    if result.returncode == _NOT_INSTALLED:
        shutil.rmtree(base, ignore_errors=True)
        raise KeystoneUnavailable(
            'no keystone: %s is not set and keystone is not installed. '
            'Run `tox -e keystone`, or `%s install` once. (%s)'
            % (INFO_ENV, START_SCRIPT, output.strip()))
    atexit.register(_stop_own, env, base)
    if result.returncode != 0:
        raise RuntimeError('%s start failed (%d):\n%s'
                           % (START_SCRIPT, result.returncode, output))
    return KeystoneServer.from_file(os.path.join(base, 'data',
                                                 'keystone.json'))


def _stop_own(env, base):
    subprocess.run(['bash', START_SCRIPT, 'stop'], env=env,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60, check=False)
    shutil.rmtree(base, ignore_errors=True)


def require_keystone(testcase):
    """The keystone of this run; skip ``testcase`` if there is none.

    Under CI (``CI=true``) a missing keystone fails the test instead: the
    keystone tests must not pass there by skipping.
    """
    try:
        return get_server()
    except KeystoneUnavailable as exc:
        if in_ci():
            raise KeystoneUnavailable('%s [CI is set: failing, not skipping]'
                                      % exc) from None
        testcase.skipTest(str(exc))


class Keystone(fixtures.Fixture):
    """The keystone of this run, and an imageapi config file that uses it.

    After setUp: ``server`` (the ``KeystoneServer``), ``config_file`` (the
    keystone flavor with ``[keystone_authtoken]``, plus ``extra_config``)
    and ``token()``. Call ``require_keystone(self)`` in the test's setUp
    first to skip when there is no keystone: a fixture cannot skip (testtools
    reports a skip raised there as an error), so this raises
    ``KeystoneUnavailable``.

    :param extra_config: ``{section: {option: value}}`` for the config file.
    """

    def __init__(self, extra_config=None):
        super().__init__()
        self.extra_config = extra_config
        self.server = None
        self.config_file = None

    def _setUp(self):
        self.server = get_server()
        config_dir = self.useFixture(fixtures.TempDir()).path
        self.config_file = self.server.write_imageapi_config(
            os.path.join(config_dir, 'imageapi.conf'), self.extra_config)

    def token(self, user, project=None):
        """A real token of ``user`` scoped to ``project`` (default: its own)."""
        return self.server.token(user, project)
