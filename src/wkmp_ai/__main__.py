"""Allows ``python -m wkmp_ai``."""

from wkmp_ai.cli import main

raise SystemExit(main())
