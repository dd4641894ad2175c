"""Prompt suites: each module exposes a `load(...)` function and a `Suite` class over it
(registered in evalkit.registry.SUITES); manifests of the public ones live in manifests/."""
