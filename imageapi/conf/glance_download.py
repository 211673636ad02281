"""Options of [glance_download_properties] (Glance's), read by importing/glance_download.py."""

from oslo_config import cfg

group = cfg.OptGroup('glance_download_properties',
                     title='Properties copied by glance-download')

opts = [
    cfg.ListOpt('extra_properties',
                item_type=cfg.types.String(quotes=True),
                bounds=True,
                default=['hw_', 'trait:', 'os_distro', 'os_secure_boot',
                         'os_type'],
                help='Prefixes of the properties glance-download copies '
                     'from the image of the other region, e.g. [hw_, '
                     'os_distro]; other properties are not copied, and '
                     'os_glance* ones never are. disk_format and '
                     'container_format are always copied.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
