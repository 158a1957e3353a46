"""`manage.py bench`: a synthetic ledger at scale, and each operation timed against a floor.

- `database` gives the benchmark a database of its own (never the user's),
- `generate` fills it with a synthetic region's funds, organisations, lines and entries,
- `operations` is the registry of what is measured, each beside a floor that does the least work
  for the same result,
- `measure` times, counts queries and peak memory, and `report` writes docs/performance.md.
"""
