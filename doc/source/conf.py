"""Sphinx configuration of the imageapi documentation (``tox -e docs``)."""

import os

_ETC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    '..', '..', 'etc')

project = 'imageapi'
copyright = 'imageapi contributors'

extensions = [
    # .. show-options:: and the sample configuration file
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    # .. show-policy:: and the sample policy file
    'oslo_policy.sphinxext',
    'oslo_policy.sphinxpolicygen',
]

config_generator_config_file = os.path.join(
    _ETC, 'oslo-config-generator', 'imageapi.conf')
sample_config_basename = '_static/imageapi'
policy_generator_config_file = os.path.join(
    _ETC, 'oslo-policy-generator', 'imageapi.conf')
sample_policy_basename = '_static/imageapi'

exclude_patterns = ['_build']
html_theme = 'alabaster'
html_static_path = ['_static']
