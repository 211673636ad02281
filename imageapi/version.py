"""Version information for imageapi, read from the installed package by pbr."""

import pbr.version

version_info = pbr.version.VersionInfo('imageapi')
