"""Library discovery: walking the tree, magic bytes, tags, hashing and cover art (docs/scan.md).

Entry points: :func:`wkmp_ai.scan.discover.discover`, :func:`wkmp_ai.scan.tags.read_tags`,
:func:`wkmp_ai.scan.names.display_metadata`, :func:`wkmp_ai.scan.hashing.sha256_file` and
:func:`wkmp_ai.ingest.library.sync_library`. Importing this package imports none of them.
"""
