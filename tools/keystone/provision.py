"""Create imageapi's test identities, catalog and unified limits in a running keystone.

start-keystone.sh runs this once keystone answers, as the bootstrap admin. It uses only
the standard library, talks to the v3 API over http.client, and finds or updates what
exists, so it can run again on the same database. It writes ``keystone.json`` (read by
imageapi/tests/functional/keystone/fixtures.py) and ``openrc/<user>.env`` per user.

Usage: provision.py wait URL TIMEOUT | provision DATA_DIR (settings in the environment)
"""

import http.client
import json
import os
import secrets
import sys
import time
import urllib.parse

DOMAIN = 'default'
# Two projects, each with a member (member+reader) and a reader (reader only).
PROJECTS = ('alpha', 'beta')
USER_ROLES = {'member': ('member', 'reader'), 'reader': ('reader',)}
SERVICE_PROJECT = 'service'
SERVICE_ROLES = ('admin', 'service')
# Unified limits of service type "image", as Glance reads them with oslo.limit;
# sizes in MiB. The defaults leave ordinary tests alone; one project gets small
# overrides so that quota tests can reach them with a few small images.
REGISTERED_LIMITS = {
    'image_size_total': 1000,
    'image_stage_total': 1000,
    'image_count_total': 100,
    'image_count_uploading': 10,
}
PROJECT_LIMITS = {
    'beta': {
        'image_size_total': 5,
        'image_stage_total': 5,
        'image_count_total': 5,
        'image_count_uploading': 1,
    },
}


class KeystoneError(Exception):
    pass


class Client:
    """Just enough of the identity v3 API, with one admin token."""

    def __init__(self, url, timeout=30):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.prefix = parsed.path.rstrip('/')
        self.timeout = timeout
        self.token = None

    def request(self, method, path, body=None, expect=(200,)):
        headers = {'Accept': 'application/json'}
        if self.token:
            headers['X-Auth-Token'] = self.token
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=self.timeout)
        try:
            conn.request(method, self.prefix + path, body=data,
                         headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        if resp.status not in expect:
            raise KeystoneError('%s %s: %d %s' % (
                method, path, resp.status, raw[:500].decode('utf-8',
                                                            'replace')))
        return resp, (json.loads(raw) if raw else None)

    def login(self, user, password, project):
        resp, _body = self.request('POST', '/v3/auth/tokens', {
            'auth': {
                'identity': {'methods': ['password'], 'password': {'user': {
                    'name': user, 'domain': {'id': DOMAIN},
                    'password': password}}},
                'scope': {'project': {'name': project,
                                      'domain': {'id': DOMAIN}}},
            }}, expect=(201,))
        self.token = resp.headers['X-Subject-Token']

    def find(self, collection, **filters):
        """The first entity of ``collection`` matching ``filters``, or None."""
        query = urllib.parse.urlencode(filters)
        _resp, body = self.request('GET', '/v3/%s?%s' % (collection, query))
        key = collection.rsplit('/', 1)[-1]
        return body[key][0] if body[key] else None

    def ensure(self, collection, entity, **filters):
        """Find by ``filters`` (default: the entity's fields) or create."""
        found = self.find(collection, **(filters or entity))
        if found is not None:
            return found
        key = collection.rsplit('/', 1)[-1].rstrip('s')
        _resp, body = self.request('POST', '/v3/' + collection,
                                   {key: entity}, expect=(201,))
        return body[key]

    def grant(self, role_id, user_id, project_id=None):
        target = ('projects/%s' % project_id) if project_id else 'system'
        self.request('PUT', '/v3/%s/users/%s/roles/%s'
                     % (target, user_id, role_id), expect=(204,))


def wait(url, timeout):
    """Poll GET ``url`` until it answers 200 (keystone's version document)."""
    client = Client(url, timeout=5)
    deadline = time.monotonic() + timeout
    error = None
    while time.monotonic() < deadline:
        try:
            client.request('GET', '')
            return 0
        except (OSError, KeystoneError) as exc:
            error = exc
        time.sleep(0.2)
    print('keystone did not answer at %s within %ss: %s'
          % (url, timeout, error), file=sys.stderr)
    return 1


def _roles(ks):
    roles = {}
    for name in ('admin', 'member', 'reader', 'service'):
        roles[name] = ks.ensure('roles', {'name': name})['id']
    return roles


def _project(ks, name, description):
    return ks.ensure('projects', {'name': name, 'domain_id': DOMAIN,
                                  'description': description},
                     name=name, domain_id=DOMAIN)['id']


def _user(ks, name, project_id):
    """Create ``name`` or reset its password; returns (id, password)."""
    password = secrets.token_hex(12)
    user = ks.find('users', name=name, domain_id=DOMAIN)
    if user is None:
        user = ks.ensure('users', {'name': name, 'domain_id': DOMAIN,
                                   'default_project_id': project_id,
                                   'password': password},
                         name=name, domain_id=DOMAIN)
    else:
        ks.request('PATCH', '/v3/users/%s' % user['id'],
                   {'user': {'password': password}})
    return user['id'], password


def _image_service(ks, region, image_url):
    """The ``image`` service and its three endpoints at ``image_url``."""
    service = ks.ensure('services', {'name': 'imageapi', 'type': 'image',
                                     'description': 'Image service'},
                        type='image')
    endpoints = {}
    for interface in ('public', 'internal', 'admin'):
        endpoint = ks.ensure('endpoints', {
            'service_id': service['id'], 'interface': interface,
            'region_id': region, 'url': image_url},
            service_id=service['id'], interface=interface, region_id=region)
        if endpoint['url'] != image_url:
            ks.request('PATCH', '/v3/endpoints/%s' % endpoint['id'],
                       {'endpoint': {'url': image_url}})
        endpoints[interface] = endpoint['id']
    return service['id'], endpoints


def _set_limit(ks, collection, match, field, value):
    """Create or update one registered limit or project limit."""
    found = ks.find(collection, **match)
    if found is None:
        ks.request('POST', '/v3/' + collection,
                   {collection: [dict(match, **{field: value})]},
                   expect=(201,))
    elif found[field] != value:
        ks.request('PATCH', '/v3/%s/%s' % (collection, found['id']),
                   {collection[:-1]: {field: value}})


def _limits(ks, service_id, region, projects):
    for resource, value in REGISTERED_LIMITS.items():
        _set_limit(ks, 'registered_limits', {
            'service_id': service_id, 'region_id': region,
            'resource_name': resource}, 'default_limit', value)
    for project, limits in PROJECT_LIMITS.items():
        for resource, value in limits.items():
            _set_limit(ks, 'limits', {
                'service_id': service_id, 'region_id': region,
                'project_id': projects[project],
                'resource_name': resource}, 'resource_limit', value)


def _openrc(path, auth_url, region, user, password, project):
    lines = ['OS_AUTH_TYPE=password', 'OS_AUTH_URL=' + auth_url,
             'OS_IDENTITY_API_VERSION=3', 'OS_REGION_NAME=' + region,
             'OS_INTERFACE=public', 'OS_USERNAME=' + user,
             'OS_PASSWORD=' + password, 'OS_PROJECT_NAME=' + project,
             'OS_USER_DOMAIN_NAME=Default', 'OS_PROJECT_DOMAIN_NAME=Default']
    _write(path, ''.join('export %s\n' % line for line in lines))


def _write(path, text):
    """Write a file readable by its owner only: it holds passwords."""
    fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as out:
        out.write(text)
    os.replace(path + '.tmp', path)


def provision(data_dir):
    env = os.environ
    auth_url = env['KEYSTONE_AUTH_URL']
    region = env['KEYSTONE_REGION']
    admin_password = env['KEYSTONE_ADMIN_PASSWORD']
    service_user = env['KEYSTONE_SERVICE_USER']
    image_url = env['IMAGEAPI_URL']

    ks = Client(auth_url.rsplit('/v3', 1)[0])
    ks.login('admin', admin_password, 'admin')
    roles = _roles(ks)
    projects = {'admin': ks.find('projects', name='admin',
                                 domain_id=DOMAIN)['id']}
    users = {'admin': {'id': ks.find('users', name='admin')['id'],
                       'password': admin_password, 'project': 'admin',
                       'roles': ['admin', 'member', 'reader']}}

    def add_user(name, project, role_names, system_roles=()):
        user_id, password = _user(ks, name, projects[project])
        for role in role_names:
            ks.grant(roles[role], user_id, projects[project])
        for role in system_roles:
            ks.grant(roles[role], user_id)
        users[name] = {'id': user_id, 'password': password,
                       'project': project, 'roles': list(role_names)}

    for project in PROJECTS:
        projects[project] = _project(ks, project, 'imageapi tests')
        for kind, role_names in USER_ROLES.items():
            add_user('%s-%s' % (project, kind), project, role_names)
    projects[SERVICE_PROJECT] = _project(ks, SERVICE_PROJECT,
                                         'Service users')
    # System reader lets the service user read unified limits (oslo.limit),
    # as Glance's install guide asks.
    add_user(service_user, SERVICE_PROJECT, SERVICE_ROLES,
             system_roles=('reader',))

    service_id, endpoints = _image_service(ks, region, image_url)
    _limits(ks, service_id, region, projects)

    info = {
        'url': auth_url.rsplit('/v3', 1)[0], 'auth_url': auth_url,
        'region': region, 'image_url': image_url,
        'image_service_id': service_id, 'image_endpoints': endpoints,
        'projects': projects, 'users': users,
        'service_user': service_user, 'service_project': SERVICE_PROJECT,
        'registered_limits': REGISTERED_LIMITS,
        'project_limits': PROJECT_LIMITS,
    }
    _write(os.path.join(data_dir, 'keystone.json'),
           json.dumps(info, indent=2, sort_keys=True) + '\n')
    os.makedirs(os.path.join(data_dir, 'openrc'), exist_ok=True)
    for name, user in users.items():
        _openrc(os.path.join(data_dir, 'openrc', name + '.env'), auth_url,
                region, name, user['password'], user['project'])
    return 0


def main(argv):
    if len(argv) == 3 and argv[0] == 'wait':
        return wait(argv[1], float(argv[2]))
    if len(argv) == 2 and argv[0] == 'provision':
        return provision(argv[1])
    print(__doc__.strip().splitlines()[-1], file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
