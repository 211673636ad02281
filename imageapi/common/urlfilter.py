"""The server-side-request-forgery guard for URLs fetched on a user's behalf.

``URLFilter`` applies Glance's ``[import_filtering_opts]`` to a URL and to
every address its host resolves to; ``open_url`` then connects to exactly
the addresses checked (no second lookup that DNS rebinding could answer
differently) and follows redirects itself, checking each target again.
web-download, glance-download and the http store call ``open_url``.
"""

import collections
import http.client
import ipaddress
import logging
import socket
import ssl
import urllib.parse

from imageapi.common import exception

LOG = logging.getLogger(__name__)

DEFAULT_PORTS = {'http': 80, 'https': 443}
REDIRECT_CODES = frozenset([301, 302, 303, 307, 308])
# Credentials that must not follow a redirect to another origin.
SENSITIVE_HEADERS = frozenset(['x-auth-token', 'authorization', 'cookie'])

Target = collections.namedtuple(
    'Target', ['url', 'scheme', 'host', 'port', 'path', 'addresses'])
Target.__doc__ = """A checked URL: ``addresses`` are the getaddrinfo results
(family, sockaddr) that passed the filter, the only ones to connect to."""


def _normalize_host(value):
    """An IP address in canonical form, or a lower-case name without a dot at the end."""
    value = value.strip().lower()
    if value.startswith('[') and value.endswith(']'):
        value = value[1:-1]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value.rstrip('.')


def _unmapped(address):
    """The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:a.b.c.d)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_public(address):
    """True for a global unicast address.

    Not loopback, private, link-local, shared (100.64/10), reserved,
    multicast or unspecified.
    """
    return address.is_global and not address.is_multicast


def _pick(allowed, disallowed):
    """Glance's rule: an allow list, when set, makes the deny list ignored."""
    return (allowed, ()) if allowed else ((), disallowed)


class URLFilter:
    """Checks URLs against ``[import_filtering_opts]``.

    The scheme, the host as written and the port (the scheme's default when
    the URL has none) are checked first; then the host is resolved and every
    address must pass: each one is checked against the host lists, and an
    address that is not global (loopback, private, link-local, ...) is
    refused unless the host or the address is in ``allowed_hosts``.
    """

    def __init__(self, conf):
        opts = conf.import_filtering_opts
        self._schemes = _pick([s.lower() for s in opts.allowed_schemes],
                              [s.lower() for s in opts.disallowed_schemes])
        self._hosts = _pick(
            frozenset(_normalize_host(h) for h in opts.allowed_hosts),
            frozenset(_normalize_host(h) for h in opts.disallowed_hosts))
        self._ports = _pick(opts.allowed_ports, opts.disallowed_ports)

    def check(self, url):
        """Check ``url`` and resolve its host.

        :returns: a Target whose addresses all passed the filter.
        :raises: exception.URLDenied naming the rule that refused it.
        """
        parts = self._parse(url)
        scheme, host = parts.scheme.lower(), _normalize_host(parts.hostname)
        self._check_scheme(url, scheme)
        self._check_host(url, host)
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:
            raise exception.URLDenied(url=url, reason='the port is invalid')
        self._check_port(url, port)
        addresses = self._resolve(url, host, port)
        for family, sockaddr in addresses:
            self._check_address(url, host, ipaddress.ip_address(
                sockaddr[0].split('%')[0]))
        path = urllib.parse.urlunsplit(('', '', parts.path or '/',
                                        parts.query, ''))
        return Target(url, scheme, host, port, path, addresses)

    @staticmethod
    def _parse(url):
        if not isinstance(url, str) or not url:
            raise exception.URLDenied(url=url, reason='no URL was given')
        try:
            parts = urllib.parse.urlsplit(url)
        except ValueError as exc:
            raise exception.URLDenied(url=url, reason=str(exc))
        if not parts.scheme or not parts.hostname:
            raise exception.URLDenied(
                url=url, reason='it needs a scheme and a host')
        return parts

    def _check_scheme(self, url, scheme):
        allowed, denied = self._schemes
        if (allowed and scheme not in allowed) or scheme in denied:
            raise exception.URLDenied(
                url=url, reason="scheme '%s' is not allowed" % scheme)
        if scheme not in DEFAULT_PORTS:
            raise exception.URLDenied(
                url=url, reason="scheme '%s' cannot be fetched" % scheme)

    def _check_host(self, url, host):
        if _is_encoded_address(host):
            # NOTE: '127.1', '2130706433' and '0x7f.1' are not IP literals to
            # ipaddress but inet_aton (used by getaddrinfo) takes them.
            raise exception.URLDenied(
                url=url, reason="host '%s' is an encoded IP address" % host)
        allowed, denied = self._hosts
        if (allowed and host not in allowed) or host in denied:
            raise exception.URLDenied(
                url=url, reason="host '%s' is not allowed" % host)

    def _check_port(self, url, port):
        allowed, denied = self._ports
        if (allowed and port not in allowed) or port in denied:
            raise exception.URLDenied(
                url=url, reason='port %d is not allowed' % port)

    @staticmethod
    def _resolve(url, host, port):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                       proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise exception.URLDenied(
                url=url, reason="host '%s' does not resolve (%s)" % (host, exc))
        return [(family, sockaddr) for family, _t, _p, _c, sockaddr in infos]

    def _check_address(self, url, host, address):
        address = _unmapped(address)
        allowed, denied = self._hosts
        if allowed and (host in allowed or str(address) in allowed):
            return
        if str(address) in denied:
            raise exception.URLDenied(
                url=url, reason="address %s is not allowed" % address)
        if not _is_public(address):
            raise exception.URLDenied(
                url=url, reason='host %s resolves to %s, a non-public address'
                % (host, address))


def _is_encoded_address(host):
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
    except (OSError, UnicodeError, ValueError):
        return False
    return True


def _connect(addresses, timeout):
    """A socket connected to the first of ``addresses`` that answers."""
    error = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a Target's checked addresses, never re-resolved."""

    def __init__(self, target, timeout):
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target
        self._connect_timeout = timeout

    def connect(self):
        self.sock = _connect(self._target.addresses, self._connect_timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS to the checked addresses, verified against the URL's host name."""

    default_port = 443

    def connect(self):
        sock = _connect(self._target.addresses, self._connect_timeout)
        context = ssl.create_default_context()
        try:
            self.sock = context.wrap_socket(sock,
                                            server_hostname=self._target.host)
        except BaseException:
            sock.close()
            raise


class Response:
    """The final answer to a fetch: ``read(n)`` streams its body.

    ``size`` is its Content-Length, or None when it sent none (or is
    chunked). A body cut short raises URLFetchFailed from ``read``.
    """

    def __init__(self, connection, response, url):
        self._connection = connection
        self._response = response
        self.url = url
        self.status = response.status
        self.headers = response.headers
        self.size = _content_length(response)
        self._received = 0

    def read(self, n):
        try:
            chunk = self._response.read(n)
        except (http.client.HTTPException, OSError) as exc:
            raise exception.URLFetchFailed(
                url=self.url, reason='the body was cut short (%s)' %
                (str(exc) or type(exc).__name__))
        self._received += len(chunk)
        # NOTE: HTTPResponse.read(n) answers b'' when the server hangs up
        # before Content-Length bytes; only read() without n would raise.
        if not chunk and n and self.size is not None \
                and self._received < self.size:
            raise exception.URLFetchFailed(
                url=self.url, reason='the body was cut short after %d of %d '
                'bytes' % (self._received, self.size))
        return chunk

    def close(self):
        self._response.close()
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _content_length(response):
    if 'chunked' in (response.getheader('Transfer-Encoding') or '').lower():
        return None
    try:
        length = int(response.getheader('Content-Length'))
    except (TypeError, ValueError):
        return None
    return length if length >= 0 else None


def _request(target, headers, timeout):
    cls = (_PinnedHTTPSConnection if target.scheme == 'https'
           else _PinnedHTTPConnection)
    connection = cls(target, timeout)
    try:
        connection.request('GET', target.path, headers=headers)
        return connection, connection.getresponse()
    except (http.client.HTTPException, OSError) as exc:
        connection.close()
        raise exception.URLFetchFailed(url=target.url, reason=str(exc) or
                                       type(exc).__name__)


def _origin(target):
    return target.scheme, target.host, target.port


def open_url(conf, url, headers=None):
    """GET ``url`` through the filter, following redirects one by one.

    Each hop is checked by URLFilter and connected to the addresses that
    passed; credentials in ``headers`` are dropped once a redirect leaves
    the first URL's origin. Timeouts are ``[web_download] timeout``.

    :returns: a Response with status 2xx; the caller closes it.
    :raises: exception.URLDenied for a URL or redirect the filter refuses;
        exception.URLFetchFailed when the server cannot be reached, answers
        with an error status, or redirects more than
        ``[web_download] max_redirects`` times.
    """
    url_filter = URLFilter(conf)
    timeout = conf.web_download.timeout
    headers = dict(headers or {}, **{'Accept-Encoding': 'identity'})
    target = url_filter.check(url)
    first_origin = _origin(target)
    for _hop in range(conf.web_download.max_redirects + 1):
        connection, response = _request(target, headers, timeout)
        location = response.getheader('Location')
        if response.status in REDIRECT_CODES and location:
            response.close()
            connection.close()
            target = url_filter.check(urllib.parse.urljoin(target.url,
                                                           location))
            if _origin(target) != first_origin:
                headers = {k: v for k, v in headers.items()
                           if k.lower() not in SENSITIVE_HEADERS}
            continue
        if not 200 <= response.status < 300:
            response.close()
            connection.close()
            raise exception.URLFetchFailed(
                url=target.url, reason='the server answered %d %s' %
                (response.status, response.reason))
        return Response(connection, response, target.url)
    raise exception.URLFetchFailed(
        url=url, reason='more than %d redirects' %
        conf.web_download.max_redirects)
