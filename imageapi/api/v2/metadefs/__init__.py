"""The metadata definitions catalog API, /v2/metadefs and /v2/schemas/metadefs/*.

One controller per subject: namespaces.py, objects.py, properties.py, tags.py and
resource_types.py; schemas.py holds the JSON Schemas they validate bodies with and
serve; access.py finds a namespace and checks the caller's rights on it.
"""
