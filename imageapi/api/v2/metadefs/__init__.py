"""The metadata definitions catalog API, /v2/metadefs and /v2/schemas/metadefs/*.

One controller per subject: namespaces.py, objects.py, properties.py, tags.py and
resource_types.py; schemas.py serves the JSON Schemas of common/metadef_schemas.py,
which the controllers validate bodies with; access.py finds a namespace and checks
the caller's rights on it. The repository side is db/metadefs/.
"""
