"""Options of the [paste_deploy] group: which paste pipeline serves the API."""

from oslo_config import cfg

group = cfg.OptGroup('paste_deploy', title='Paste deployment options')

opts = [
    cfg.StrOpt('flavor',
               default='noauth',
               choices=[('keystone', 'Validate keystone tokens with '
                                     'keystonemiddleware auth_token.'),
                        ('noauth', 'No authentication; identity comes from '
                                   'X-Project-Id/X-Roles headers or is '
                                   'admin. For a laptop only.')],
               help='Pipeline of the paste file to serve: '
                    'imageapi-<flavor>.'),
    cfg.StrOpt('config_file',
               help='Paste configuration file. Default: imageapi-paste.ini '
                    'found next to the first config file, in /etc/imageapi, '
                    'or the one shipped with the package.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
