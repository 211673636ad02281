"""Interoperable image import: the methods, the engine that runs an import, its errors.

api/v2/image_data.py stages data and api/v2/images.py starts an import; the engine
(imageapi/importing/engine.py) runs it on a thread of the API process under a lease held
in the database. Methods (methods.py registry) give the engine a Source of bytes; the
plugins of imageapi/importing/plugins/ may rewrite the staged file before it is stored.
"""
