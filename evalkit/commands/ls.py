"""`evalkit ls`: every suite, generator, metric and extractor with the package it comes
from, and the built-in models and data."""

from __future__ import annotations

import argparse


def cmd_ls(args: argparse.Namespace) -> int:
    from evalkit import builtin, registry

    for kind, reg in registry.REGISTRIES.items():
        print(f"{kind}s:")
        for entry in reg.entries().values():
            source = entry.package if entry.package == registry.OWN_PACKAGE else f"{entry.package} ({entry.target})"
            print(f"  {entry.name:<22} {source:<10} {entry.description}")
        if args.check:
            for name in reg.entries():
                reg.load(name)
    print("built-ins (offline tests and smoke runs; built into the cache on first use):")
    for name, item in builtin.BUILTINS.items():
        print(f"  {builtin.PREFIX + name:<28} {item.what}: {item.description}")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("ls", help="list suites, generators, metrics, extractors and built-in models")
    p.add_argument("--check", action="store_true", help="also import every entry and check its interface")
    p.set_defaults(func=cmd_ls)
