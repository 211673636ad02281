"""keystonemiddleware auth_token, configured from imageapi's own ConfigOpts."""

from keystonemiddleware import auth_token

from imageapi.common import config


def filter_factory(global_conf, **local_conf):
    """Paste factory: auth_token reads [keystone_authtoken] from our conf."""
    conf = dict(local_conf)
    conf['oslo_config_config'] = config.conf_from_paste(global_conf)

    def _filter(app):
        return auth_token.AuthProtocol(app, conf)
    return _filter
