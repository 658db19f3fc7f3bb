"""Performance figures of crio-wizard against their budgets: `python -m benchmarks` (see README, Performance)."""
