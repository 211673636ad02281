"""Options of [import_filtering_opts] (Glance's names) and [web_download].

common/urlfilter.py reads them for every URL the service fetches on a user's
behalf: web-download, glance-download and the http store.
"""

from oslo_config import cfg

group = cfg.OptGroup('import_filtering_opts',
                     title='URL filtering for web-download',
                     help='Which URLs the service may fetch on behalf of a '
                          'user. An allow list, when set, has priority over '
                          'the matching deny list, which is then ignored.')

opts = [
    cfg.ListOpt('allowed_schemes',
                item_type=cfg.types.String(quotes=True),
                bounds=True,
                default=['http', 'https'],
                help='URL schemes web-download may fetch, e.g. '
                     '[http, https]. When not empty, disallowed_schemes is '
                     'ignored. Only http and https can be fetched at all.'),
    cfg.ListOpt('disallowed_schemes',
                item_type=cfg.types.String(quotes=True),
                bounds=True,
                default=[],
                help='URL schemes web-download refuses; used only when '
                     'allowed_schemes is empty.'),
    cfg.ListOpt('allowed_hosts',
                item_type=cfg.types.HostAddress(),
                bounds=True,
                default=[],
                help='Host names or IP addresses web-download may fetch '
                     'from, e.g. [images.example.org, 192.0.2.10]. When not '
                     'empty, every other host is refused and '
                     'disallowed_hosts is ignored. A host listed here may '
                     'resolve to a loopback, private or link-local address; '
                     'any other host must resolve only to global addresses.'),
    cfg.ListOpt('disallowed_hosts',
                item_type=cfg.types.HostAddress(),
                bounds=True,
                default=[],
                help='Host names or IP addresses web-download refuses, '
                     'checked against the name in the URL and every address '
                     'it resolves to; used only when allowed_hosts is '
                     'empty.'),
    cfg.ListOpt('allowed_ports',
                item_type=cfg.types.Integer(min=1, max=65535),
                bounds=True,
                default=[80, 443],
                help='TCP ports web-download may connect to, e.g. [80, 443]. '
                     'A URL without a port uses its scheme\'s (80 for http, '
                     '443 for https). When not empty, disallowed_ports is '
                     'ignored.'),
    cfg.ListOpt('disallowed_ports',
                item_type=cfg.types.Integer(min=1, max=65535),
                bounds=True,
                default=[],
                help='TCP ports web-download refuses; used only when '
                     'allowed_ports is empty.'),
]

web_download_group = cfg.OptGroup('web_download',
                                  title='Fetching image data from URLs')

web_download_opts = [
    cfg.IntOpt('timeout',
               default=60, min=1, max=3600,
               help='Seconds to wait for a remote server to accept the '
                    'connection, and then for each read of its answer; an '
                    'import whose source stays silent longer fails.'),
    cfg.IntOpt('max_redirects',
               default=10, min=0, max=50,
               help='Redirects followed for one URL. Every target is '
                    'checked against [import_filtering_opts] again; one '
                    'more redirect than this fails the import.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    conf.register_group(web_download_group)
    conf.register_opts(web_download_opts, group=web_download_group)


def list_opts():
    return {group: opts, web_download_group: web_download_opts}
