"""evalkit: an evaluation harness for text-to-image models."""

__version__ = "0.1.0"
