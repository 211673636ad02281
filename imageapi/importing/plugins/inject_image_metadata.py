"""Import plugin ``inject_image_metadata``: set operator-chosen properties.

As Glance's: ``[inject_metadata_properties] inject`` is set on the image
unless the importing user has one of ``ignore_user_roles``.
"""


def run(conf, context, image, staged_path):
    """The configured properties, or {} for a user with an ignored role."""
    opts = conf.inject_metadata_properties
    roles = getattr(context, 'roles', None) or []
    if any(role in opts.ignore_user_roles for role in roles):
        return {}
    return dict(opts.inject)
