"""Allows ``python -m wkmp_ai``."""

from wkmp_ai.cli import run

if __name__ == "__main__":  # worker processes import this module again as __mp_main__
    run()
