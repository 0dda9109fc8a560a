"""Fixtures shared with the scan tests: tiny real audio files in every format."""

from tests.scan.conftest import encoded, templates

__all__ = ["encoded", "templates"]
