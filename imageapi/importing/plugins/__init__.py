"""Import plugins, run by the engine on the staged file before it is stored.

``run_plugins`` runs ``[image_import_opts] image_import_plugins`` in order,
with Glance's names. A plugin is a function ``run(conf, context, image,
staged_path) -> dict``: it may rewrite the file at ``staged_path`` in place
(a temp file beside it, then os.replace) and returns the image fields and
properties to set; each plugin sees the image with the changes of the
plugins before it. A plugin that refuses raises errors.PluginFailed.
"""

from imageapi.importing import errors
from imageapi.importing.plugins import image_conversion
from imageapi.importing.plugins import inject_image_metadata

PLUGINS = {
    'image_conversion': image_conversion.run,
    'inject_image_metadata': inject_image_metadata.run,
}


def check_names(conf):
    """Raise PluginFailed if a configured plugin name is unknown."""
    unknown = [name for name in conf.image_import_opts.image_import_plugins
               if name not in PLUGINS]
    if unknown:
        raise errors.PluginFailed(
            'Unknown import plugins %s in [image_import_opts] '
            'image_import_plugins; known: %s.'
            % (', '.join(unknown), ', '.join(sorted(PLUGINS))))


def run_plugins(conf, context, image, staged_path):
    """Run the configured plugins in order on ``staged_path``.

    :returns: the image field and property changes of all plugins, later
        ones winning.
    :raises errors.PluginFailed: a plugin is unknown or refused the data.
    """
    check_names(conf)
    changes = {}
    for name in conf.image_import_opts.image_import_plugins:
        changes.update(PLUGINS[name](conf, context, dict(image, **changes),
                                     staged_path))
    return changes
