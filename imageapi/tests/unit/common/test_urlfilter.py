"""URLFilter rules and open_url's pinned connections and redirects."""

import socket

import fixtures

from imageapi.common import exception
from imageapi.common import urlfilter
from imageapi.tests import base
from imageapi.tests import http_source

PUBLIC = '93.184.216.34'
PUBLIC6 = '2606:2800:220:1:248:1893:25c8:1946'


def _fake_resolver(*addresses):
    """A getaddrinfo stand-in (DNS is a network edge) answering ``addresses``."""
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET6 if ':' in a else socket.AF_INET,
                 socket.SOCK_STREAM, socket.IPPROTO_TCP, '',
                 (a, port) if ':' not in a else (a, port, 0, 0))
                for a in addresses]
    return getaddrinfo


class URLFilterTest(base.TestCase):

    def check(self, url):
        return urlfilter.URLFilter(self.conf).check(url)

    def assertDenied(self, url, reason):
        exc = self.assertRaises(exception.URLDenied, self.check, url)
        self.assertIn(reason, str(exc))
        self.assertEqual(400, exc.code)

    def filters(self, **kw):
        self.flags(group='import_filtering_opts', **kw)

    def test_check_public_address_default_port_allowed(self):
        target = self.check('http://%s/image.qcow2?x=1' % PUBLIC)
        self.assertEqual(('http', PUBLIC, 80, '/image.qcow2?x=1'),
                         (target.scheme, target.host, target.port,
                          target.path))
        self.assertEqual([PUBLIC], [s[0] for _f, s in target.addresses])

    def test_check_https_default_port_443_allowed(self):
        self.assertEqual(443, self.check('https://%s/' % PUBLIC).port)

    def test_check_public_ipv6_literal_allowed(self):
        target = self.check('http://[%s]/' % PUBLIC6)
        self.assertEqual(PUBLIC6, target.host)

    def test_check_default_options_are_glances(self):
        opts = self.conf.import_filtering_opts
        self.assertEqual(['http', 'https'], opts.allowed_schemes)
        self.assertEqual([80, 443], opts.allowed_ports)
        self.assertEqual([], opts.disallowed_schemes)
        self.assertEqual([], opts.allowed_hosts)
        self.assertEqual([], opts.disallowed_hosts)
        self.assertEqual([], opts.disallowed_ports)

    def test_check_scheme_not_in_allowed_denied(self):
        self.assertDenied('ftp://%s/' % PUBLIC, "scheme 'ftp' is not allowed")
        self.assertDenied('file:///etc/passwd', 'needs a scheme and a host')

    def test_check_disallowed_scheme_denied_when_no_allow_list(self):
        self.filters(allowed_schemes=[], disallowed_schemes=['http'])
        self.assertDenied('http://%s/' % PUBLIC, "scheme 'http' is not")
        self.check('https://%s/' % PUBLIC)

    def test_check_allowed_schemes_win_over_disallowed(self):
        self.filters(allowed_schemes=['http'], disallowed_schemes=['http'])
        self.check('http://%s/' % PUBLIC)

    def test_check_allowed_scheme_that_cannot_be_fetched_denied(self):
        self.filters(allowed_schemes=['ftp'])
        self.assertDenied('ftp://%s:80/' % PUBLIC,
                          "scheme 'ftp' cannot be fetched")

    def test_check_non_public_addresses_denied(self):
        for address in ('127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1',
                        '169.254.169.254', '100.64.0.1', '0.0.0.0',
                        '224.0.0.1', '240.0.0.1', '[::1]', '[fe80::1]',
                        '[fc00::1]', '[::ffff:127.0.0.1]', '[::]'):
            self.assertDenied('http://%s/' % address, 'non-public address')

    def test_check_name_resolving_to_loopback_denied(self):
        self.assertDenied('http://localhost/', 'resolves to 127.0.0.1')

    def test_check_encoded_addresses_denied(self):
        for host in ('2130706433', '127.1', '0x7f000001', '0177.0.0.1'):
            self.assertDenied('http://%s/' % host, 'encoded IP address')

    def test_check_allowed_host_may_be_loopback(self):
        self.filters(allowed_hosts=['127.0.0.1'])
        self.assertEqual('127.0.0.1',
                         self.check('http://127.0.0.1/').host)

    def test_check_allowed_name_may_resolve_to_loopback(self):
        self.filters(allowed_hosts=['localhost'])
        self.check('http://LOCALHOST./')

    def test_check_host_not_in_allowed_hosts_denied(self):
        self.filters(allowed_hosts=['127.0.0.1'])
        self.assertDenied('http://%s/' % PUBLIC,
                          "host '%s' is not allowed" % PUBLIC)

    def test_check_allowed_hosts_win_over_disallowed(self):
        self.filters(allowed_hosts=[PUBLIC], disallowed_hosts=[PUBLIC])
        self.check('http://%s/' % PUBLIC)

    def test_check_disallowed_host_denied(self):
        self.filters(disallowed_hosts=[PUBLIC])
        self.assertDenied('http://%s/' % PUBLIC, 'is not allowed')

    def test_check_name_resolving_to_disallowed_address_denied(self):
        self.filters(disallowed_hosts=[PUBLIC])
        self.useFixture(fixtures.MockPatchObject(
            urlfilter.socket, 'getaddrinfo', _fake_resolver(PUBLIC)))
        self.assertDenied('http://images.example/',
                          'address %s is not allowed' % PUBLIC)

    def test_check_name_with_any_private_address_denied(self):
        self.useFixture(fixtures.MockPatchObject(
            urlfilter.socket, 'getaddrinfo',
            _fake_resolver(PUBLIC, '10.0.0.7')))
        self.assertDenied('http://images.example/',
                          'resolves to 10.0.0.7, a non-public address')

    def test_check_name_resolving_to_public_allowed(self):
        self.useFixture(fixtures.MockPatchObject(
            urlfilter.socket, 'getaddrinfo', _fake_resolver(PUBLIC, PUBLIC6)))
        target = self.check('http://images.example/')
        self.assertEqual('images.example', target.host)
        self.assertEqual(2, len(target.addresses))

    def test_check_unresolvable_host_denied(self):
        self.useFixture(fixtures.MockPatchObject(
            urlfilter.socket, 'getaddrinfo',
            side_effect=socket.gaierror(socket.EAI_NONAME, 'unknown')))
        self.assertDenied('http://nowhere.example/', 'does not resolve')

    def test_check_port_not_in_allowed_denied(self):
        self.assertDenied('http://%s:8080/' % PUBLIC,
                          'port 8080 is not allowed')

    def test_check_disallowed_port_denied_when_no_allow_list(self):
        self.filters(allowed_ports=[], disallowed_ports=[8080])
        self.assertDenied('http://%s:8080/' % PUBLIC, 'port 8080')
        self.check('http://%s:8081/' % PUBLIC)

    def test_check_allowed_ports_win_over_disallowed(self):
        self.filters(allowed_ports=[8080], disallowed_ports=[8080])
        self.check('http://%s:8080/' % PUBLIC)

    def test_check_implicit_port_checked(self):
        self.filters(allowed_ports=[443])
        self.assertDenied('http://%s/' % PUBLIC, 'port 80 is not allowed')

    def test_check_invalid_port_denied(self):
        self.assertDenied('http://%s:99999/' % PUBLIC, 'port is invalid')

    def test_check_missing_url_denied(self):
        self.assertDenied(None, 'no URL was given')
        self.assertDenied('', 'no URL was given')
        self.assertDenied('not a url', 'needs a scheme and a host')

    def test_options_take_glances_value_syntax(self):
        path = self.state_path + '/filter.conf'
        with open(path, 'w') as f:
            f.write('[import_filtering_opts]\n'
                    'allowed_hosts = [127.0.0.1, images.example]\n'
                    'allowed_ports = [80, 8080]\n'
                    "allowed_schemes = ['https']\n")
        self.conf(['--config-file', path], project='imageapi',
                  default_config_files=[], default_config_dirs=[])
        opts = self.conf.import_filtering_opts
        self.assertEqual(['127.0.0.1', 'images.example'], opts.allowed_hosts)
        self.assertEqual([80, 8080], opts.allowed_ports)
        self.assertEqual(['https'], opts.allowed_schemes)


class OpenURLTest(base.TestCase):
    """open_url against a real loopback server allowed by the config."""

    def setUp(self):
        super().setUp()
        self.source = self.useFixture(http_source.SourceServer())
        self.flags(allowed_hosts=['127.0.0.1'],
                   allowed_ports=[self.source.port],
                   group='import_filtering_opts')

    def fetch(self, url, headers=None):
        with urlfilter.open_url(self.conf, url, headers) as response:
            chunks = []
            while True:
                chunk = response.read(7)
                if not chunk:
                    return response, b''.join(chunks)
                chunks.append(chunk)

    def test_open_url_streams_body_with_size(self):
        self.source.add('/a', b'x' * 100)
        response, body = self.fetch(self.source.url('/a'))
        self.assertEqual(b'x' * 100, body)
        self.assertEqual(100, response.size)

    def test_open_url_connects_to_checked_address_only(self):
        # The name resolves once, to the loopback address the filter checked;
        # a second lookup would answer an address nothing listens on.
        answers = [_fake_resolver('127.0.0.1'), _fake_resolver('192.0.2.1')]
        calls = []

        def resolver(*args, **kwargs):
            calls.append(args[0])
            return answers[min(len(calls), 2) - 1](*args, **kwargs)

        self.flags(allowed_hosts=['images.example'],
                   group='import_filtering_opts')
        self.useFixture(fixtures.MockPatchObject(
            urlfilter.socket, 'getaddrinfo', resolver))
        self.source.add('/a', b'data')
        _response, body = self.fetch(
            self.source.url('/a', host='images.example'))
        self.assertEqual(b'data', body)
        self.assertEqual(['images.example'], calls)
        self.assertEqual('images.example:%d' % self.source.port,
                         self.source.requests[0][1]['Host'])

    def test_open_url_follows_allowed_redirects(self):
        self.source.redirect('/r1', '/r2', status=301)
        self.source.redirect('/r2', self.source.url('/a'), status=307)
        self.source.add('/a', b'data')
        response, body = self.fetch(self.source.url('/r1'))
        self.assertEqual(b'data', body)
        self.assertEqual(self.source.url('/a'), response.url)

    def test_open_url_denied_redirect_refused(self):
        self.source.redirect('/r', 'http://localhost:%d/a' % self.source.port)
        self.source.add('/a', b'data')
        exc = self.assertRaises(exception.URLDenied, self.fetch,
                                self.source.url('/r'))
        self.assertIn("host 'localhost' is not allowed", str(exc))
        self.assertEqual(['/r'], [p for p, _h in self.source.requests])

    def test_open_url_redirect_to_denied_port_refused(self):
        self.source.redirect('/r', 'http://127.0.0.1:22/')
        exc = self.assertRaises(exception.URLDenied, self.fetch,
                                self.source.url('/r'))
        self.assertIn('port 22 is not allowed', str(exc))

    def test_open_url_too_many_redirects_fails(self):
        self.flags(max_redirects=2, group='web_download')
        for i in range(3):
            self.source.redirect('/r%d' % i, '/r%d' % (i + 1))
        self.source.add('/r3', b'data')
        exc = self.assertRaises(exception.URLFetchFailed, self.fetch,
                                self.source.url('/r0'))
        self.assertIn('more than 2 redirects', str(exc))

    def test_open_url_credentials_dropped_on_cross_origin_redirect(self):
        self.flags(allowed_hosts=['127.0.0.1', 'localhost'],
                   group='import_filtering_opts')
        self.source.redirect('/same', '/r')
        self.source.redirect('/r', self.source.url('/a', host='localhost'))
        self.source.add('/a', b'data')
        self.fetch(self.source.url('/same'), {'X-Auth-Token': 'secret'})
        tokens = [h.get('X-Auth-Token') for _p, h in self.source.requests]
        self.assertEqual(['secret', 'secret', None], tokens)

    def test_open_url_error_status_fails(self):
        exc = self.assertRaises(exception.URLFetchFailed, self.fetch,
                                self.source.url('/missing'))
        self.assertIn('404', str(exc))

    def test_open_url_unreachable_fails(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        self.flags(allowed_ports=[port], group='import_filtering_opts')
        exc = self.assertRaises(exception.URLFetchFailed, self.fetch,
                                'http://127.0.0.1:%d/' % port)
        self.assertIn('Connection refused', str(exc))

    def test_open_url_body_cut_short_fails_on_read(self):
        self.source.add('/a', b'x' * 1000, cut_after=10)
        exc = self.assertRaises(exception.URLFetchFailed, self.fetch,
                                self.source.url('/a'))
        self.assertIn('cut short', str(exc))
