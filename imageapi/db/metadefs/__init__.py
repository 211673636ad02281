"""The metadata definitions catalog (/v2/metadefs) in the repository.

namespaces.py holds namespaces, their visibility and paging; parts.py the objects,
properties and tags inside a namespace; resource_types.py the resource types and their
associations with namespaces; catalog.py the whole-catalog load, unload and export of
imageapi-manage. Each public function is one reader or writer block of Core statements
on db/api.py's main_context_manager and returns plain dicts.
"""
