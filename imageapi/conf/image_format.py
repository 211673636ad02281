"""Options of the [image_format] group: accepted formats and format inspection."""

from oslo_config import cfg

group = cfg.OptGroup('image_format', title='Image format options')

opts = [
    cfg.ListOpt('disk_formats',
                default=['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw',
                         'qcow2', 'vdi', 'iso', 'ploop'],
                help='disk_format values images may have.'),
    cfg.ListOpt('container_formats',
                default=['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker',
                         'compressed'],
                help='container_format values images may have.'),
    cfg.BoolOpt('require_image_format_match',
                default=True,
                help='Inspect the data of bare-container uploads as it '
                     'streams and reject (415) data that does not match '
                     'disk_format or fails the format safety checks.'),
    cfg.ListOpt('vmdk_allowed_types',
                default=['streamOptimized', 'monolithicSparse'],
                help='VMDK create-type subformats the image_conversion '
                     'import plugin accepts; a VMDK of another type, or any '
                     'VMDK when the list is empty, fails the import. Keep '
                     'to single-file sparse variants: the others can name '
                     'files on the host.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
