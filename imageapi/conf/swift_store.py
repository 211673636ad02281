"""Options of the Swift store driver (store/swift.py), in the [swift_store] group.

The option names are glance_store's (its ``[glance_store]`` swift_store_* options),
so that a Glance configuration carries over. ``register_opts(conf, group_name)`` takes
the group name so that a multi-store setup can register the same options into one group
per backend.
"""

from oslo_config import cfg

GROUP = 'swift_store'
group = cfg.OptGroup(GROUP, title='Swift store options')

_MIB = 'MiB (1 MiB = 1048576 bytes)'

opts = [
    cfg.StrOpt('swift_store_auth_version',
               default='3',
               choices=(('1', 'Swift\'s own auth (tempauth, swauth): a GET '
                              'of swift_store_auth_address with X-Auth-User '
                              'and X-Auth-Key returns token and storage '
                              'URL.'),
                        ('3', 'The keystone identity API v3: its catalog '
                              'gives the storage URL.')),
               help='How the driver authenticates with Swift.'),
    cfg.URIOpt('swift_store_auth_address',
               schemes=('http', 'https'),
               help='Authentication URL: for version 1 the auth endpoint '
                    'itself (such as http://swift:8080/auth/v1.0), for '
                    'version 3 the keystone URL (such as '
                    'https://keystone:5000/v3). Required.'),
    cfg.StrOpt('swift_store_user',
               secret=True,
               help='The user to authenticate as. Version 1: '
                    '"<account>:<user>". Version 3: the user name, or '
                    '"<project name>:<user name>" as Glance writes it when '
                    'swift_store_project_name and swift_store_project_id are '
                    'both unset.'),
    cfg.StrOpt('swift_store_key',
               secret=True,
               help='The user\'s key (version 1) or password (version 3).'),
    cfg.StrOpt('swift_store_project_name',
               help='Version 3: name of the project whose Swift account '
                    'holds the images. Unset: taken from swift_store_user, '
                    'or swift_store_project_id is used.'),
    cfg.StrOpt('swift_store_project_id',
               help='Version 3: ID of the project whose Swift account holds '
                    'the images; takes precedence over '
                    'swift_store_project_name.'),
    cfg.StrOpt('swift_store_user_domain_name',
               help='Version 3: name of the domain of swift_store_user. '
                    'With neither this nor swift_store_user_domain_id set, '
                    'the domain with ID "default" is used.'),
    cfg.StrOpt('swift_store_user_domain_id',
               help='Version 3: ID of the domain of swift_store_user; takes '
                    'precedence over swift_store_user_domain_name.'),
    cfg.StrOpt('swift_store_project_domain_name',
               help='Version 3: name of the domain of the project. With '
                    'neither this nor swift_store_project_domain_id set, '
                    'the domain with ID "default" is used.'),
    cfg.StrOpt('swift_store_project_domain_id',
               help='Version 3: ID of the domain of the project; takes '
                    'precedence over swift_store_project_domain_name.'),
    cfg.StrOpt('swift_store_region',
               help='Version 3: the region of the Swift endpoint in the '
                    'keystone catalog. Needed only when the catalog lists '
                    'Swift in more than one region.'),
    cfg.StrOpt('swift_store_endpoint_type',
               default='publicURL',
               choices=('publicURL', 'internalURL', 'adminURL'),
               help='Version 3: which of the catalog\'s Swift endpoints '
                    '(interfaces) to use.'),
    cfg.StrOpt('swift_store_service_type',
               default='object-store',
               help='Version 3: the service type of Swift in the keystone '
                    'catalog.'),
    cfg.URIOpt('swift_store_endpoint',
               schemes=('http', 'https'),
               help='Storage URL to use instead of the one that '
                    'authentication returns, up to but excluding the '
                    'container, such as https://swift:8080/v1/AUTH_images.'),
    cfg.BoolOpt('swift_store_auth_insecure',
                default=False,
                help='Skip the verification of the TLS certificates of '
                     'keystone and Swift. Only for test setups: anyone on '
                     'the path can then read and change image data.'),
    cfg.StrOpt('swift_store_cacert',
               sample_default='/etc/ssl/certs/ca-certificates.crt',
               help='File of CA certificates that verify the TLS '
                    'certificates of keystone and Swift. Unset: the '
                    'system\'s CA store.'),
    cfg.StrOpt('default_swift_reference',
               default='ref1',
               help='Name of the Swift account in image locations, which '
                    'read "swift+config://<this>/<container>/<image ID>" as '
                    'Glance writes them with a swift_store_config_file: a '
                    'Glance whose reference of this name points at the same '
                    'account reads them, and no credentials are stored in '
                    'the database. The driver reads and deletes only '
                    'locations that name it.'),
    cfg.StrOpt('swift_store_container',
               default='glance',
               help='The container that holds the images, or the prefix of '
                    'the container names when '
                    'swift_store_multiple_containers_seed is above 0. '
                    'Unfinished uploads keep their segments in the same '
                    'container, under "<image ID>.".'),
    cfg.BoolOpt('swift_store_create_container_on_put',
                default=False,
                help='Create the container on the first upload that finds '
                     'it missing. Off: such an upload fails with 503.'),
    cfg.IntOpt('swift_store_multiple_containers_seed',
               default=0, min=0, max=32,
               help='Spread images over 16^N containers: 0 stores all of '
                    'them in swift_store_container; N from 1 to 32 stores '
                    'each in "<swift_store_container>_<first N characters '
                    'of its ID>", where dashes in the ID are kept but not '
                    'counted, as Glance names them.'),
    cfg.IntOpt('swift_store_large_object_size',
               default=5 * 1024, min=1, max=5 * 1024,
               help='Size in ' + _MIB + ' from which an image is stored as '
                    'a Static Large Object: segments plus a manifest. An '
                    'image of a declared size below it is stored as one '
                    'object; one of unknown size (a chunked upload) is '
                    'always segmented. Keep it at most Swift\'s '
                    'max_file_size (5 GiB by default), or uploads of sizes '
                    'in between fail with 413.'),
    cfg.IntOpt('swift_store_large_object_chunk_size',
               default=200, min=1, max=5 * 1024,
               help='Size in ' + _MIB + ' of each segment of a large '
                    'object; the last one may be smaller. Swift allows '
                    '1000 segments per manifest by default '
                    '(max_manifest_segments), so this bounds the largest '
                    'image: 200 MiB segments allow about 195 GiB.'),
    cfg.IntOpt('swift_store_retry_get_count',
               default=0, min=0, max=100,
               help='Times a download that broke off mid-stream is resumed '
                    'from where it stopped (a ranged GET) before the '
                    'download fails; 0 never resumes.'),
    cfg.IntOpt('swift_store_retries',
               default=3, min=0, max=10,
               help='Times a request that can safely be repeated (HEAD, '
                    'GET, DELETE, listing, container creation) is retried '
                    'after a connection error or a 5xx answer, waiting 0.5 '
                    's, then 1 s, 2 s, ... between tries. Uploads of image '
                    'data are never repeated: their bytes are not kept.'),
    cfg.FloatOpt('swift_store_timeout',
                 default=60.0, min=1.0, max=3600.0,
                 help='Seconds to wait for Swift (or keystone) to accept a '
                      'connection, take a write or send the next bytes of '
                      'an answer before the request fails. Finishing an '
                      'object takes Swift one disk sync, so keep it well '
                      'above that.'),
]


def register_opts(conf, group_name=GROUP):
    """Register the Swift options in the group ``group_name``.

    A multi-store setup registers them once per backend, in the backend's
    own group.
    """
    if group_name == GROUP:
        conf.register_group(group)
    else:
        conf.register_group(cfg.OptGroup(group_name,
                                         title='Swift store options'))
    conf.register_opts(opts, group=group_name)


def list_opts():
    return {group: opts}
