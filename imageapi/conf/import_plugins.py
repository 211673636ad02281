"""Options of the import plugins, with Glance's groups, names and defaults.

[image_conversion] for imageapi/importing/plugins/image_conversion.py and
[inject_metadata_properties] for plugins/inject_image_metadata.py.
"""

from oslo_config import cfg

conversion_group = cfg.OptGroup('image_conversion',
                                title='The image_conversion import plugin')
conversion_opts = [
    cfg.StrOpt('output_format',
               default='raw',
               choices=('qcow2', 'raw', 'vmdk'),
               help='disk_format the image_conversion plugin converts '
                    'imported data to with qemu-img before it is stored '
                    '(raw suits RBD). Data in a format qemu-img cannot read, '
                    'or whose content does not match its disk_format, fails '
                    'the import.'),
]

inject_group = cfg.OptGroup('inject_metadata_properties',
                            title='The inject_image_metadata import plugin')
inject_opts = [
    cfg.ListOpt('ignore_user_roles',
                default='admin',
                help='Roles whose imports get no injected properties: an '
                     'import by a user with any of them is left as it is. '
                     'For example: [admin, member].'),
    cfg.DictOpt('inject',
                default={},
                help='Properties the inject_image_metadata plugin sets on '
                     'every imported image, as key:value pairs, for example '
                     'k1:v1,k2:v2. Keys are at most 255 characters.'),
]


def register_opts(conf):
    for group, opts in ((conversion_group, conversion_opts),
                        (inject_group, inject_opts)):
        conf.register_group(group)
        conf.register_opts(opts, group=group)


def list_opts():
    return {conversion_group: conversion_opts, inject_group: inject_opts}
