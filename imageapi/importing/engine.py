"""The engine of an import: stage the source, run the plugins, write the stores, activate.

api/v2/images.py starts an import (a task row holding a lease, the image importing) and
hands it to ``Engine.start``, which runs ``Engine.run`` on a thread of this API process.
The lease keeper of imageapi/leases.py renews the lease while it runs; when the process
dies, any node's reaper fails the task and returns the image to an importable status.
"""

import importlib

from imageapi.importing import errors

_PLUGINS_MODULE = 'imageapi.importing.plugins'


def run_plugins(conf, context, image, staged_path):
    """Run ``[image_import_opts] image_import_plugins`` on the staged file.

    The call site of imageapi/importing/plugins/ (run_plugins there): a plugin
    may rewrite the file at ``staged_path`` in place, and returns the image
    fields and properties to set with the data.

    :returns: a dict of image field/property changes.
    :raises errors.ImportFailed: a plugin failed, or plugins are configured
        and none are installed.
    """
    if not conf.image_import_opts.image_import_plugins:
        return {}
    try:
        plugins = importlib.import_module(_PLUGINS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != _PLUGINS_MODULE:
            raise
        raise errors.PluginFailed(
            'Import plugins %s are configured but not available.'
            % ', '.join(conf.image_import_opts.image_import_plugins))
    return plugins.run_plugins(conf, context, image, staged_path)
