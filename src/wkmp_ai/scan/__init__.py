"""Library discovery: walking the tree, magic bytes, tags, hashing and cover art."""
