"""Plain frozen records shared between the stages: the scan model (``scan``), analysis results
(``analysis``) and identification records (``identify``).

The bottom layer: these modules import nothing of ours but :mod:`wkmp_ai.errors` and
:mod:`wkmp_ai.ticks`, so ``db`` and every domain package can use them without importing each other.
"""
