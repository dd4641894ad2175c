"""Prompt suites: each module exposes `load(...) -> list[Prompt]` (see evalkit.registry.SUITES)."""
