"""Running benchmarks: one run (run.py), its stages (generate.py, score.py)."""
