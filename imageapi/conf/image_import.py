"""Options of interoperable import and tasks, with Glance's names and defaults.

[DEFAULT] enabled_import_methods, [image_import_opts]
image_import_plugins, [task] task_time_to_live and the staging directory of
[os_glance_staging_store]. The plugins' own groups live with the plugins.
"""

from oslo_config import cfg

default_opts = [
    cfg.ListOpt('enabled_import_methods',
                item_type=cfg.types.String(quotes=True),
                default=['glance-direct', 'web-download', 'copy-image'],
                help='Import methods offered by POST /v2/images/{id}/import '
                     'and listed by GET /v2/info/import. Known methods: '
                     'glance-direct, web-download, copy-image, '
                     'glance-download. A method not listed is refused with '
                     '400; without glance-direct, PUT /v2/images/{id}/stage '
                     'answers 404.'),
]

import_group = cfg.OptGroup('image_import_opts',
                            title='Image import plugin options')
import_opts = [
    cfg.ListOpt('image_import_plugins',
                default=[],
                help='Plugins run in this order on the staged data of every '
                     'import, before it is written to the stores, e.g. '
                     '"image_conversion, inject_image_metadata". A plugin '
                     'that fails fails the import.'),
]

task_group = cfg.OptGroup('task', title='Task options')
task_opts = [
    cfg.IntOpt('task_time_to_live',
               default=48, min=0,
               help='Hours a finished task (success or failure) is kept '
                    'before it expires; expired tasks are purged by the '
                    'periodic keeper of each API process and by '
                    '"imageapi-manage db purge_tasks".'),
]

staging_group = cfg.OptGroup('os_glance_staging_store',
                             title='Staging area of interoperable import')
staging_opts = [
    cfg.StrOpt('filesystem_store_datadir',
               default='$state_path/staging',
               help='Directory that holds staged image data between PUT '
                    '/v2/images/{id}/stage (or the download of an import '
                    'method) and the write to the stores. It survives '
                    'restarts: keep it off tmpfs. Every API node must '
                    'mount the same directory (shared storage such as '
                    'NFS): an import may run on another node than the '
                    'one that staged its data.'),
]


def register_opts(conf):
    conf.register_opts(default_opts)
    for group, opts in ((import_group, import_opts), (task_group, task_opts),
                        (staging_group, staging_opts)):
        conf.register_group(group)
        conf.register_opts(opts, group=group)


def list_opts():
    return {'DEFAULT': default_opts, import_group: import_opts,
            task_group: task_opts, staging_group: staging_opts}
