"""Silence the Hugging Face libraries' progress bars and info logs; evalkit shows its own."""

from __future__ import annotations

import importlib.util


def quiet_hf_logging() -> None:
    """Quiet transformers, and diffusers where installed (a metric needs only the former)."""
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if importlib.util.find_spec("diffusers") is not None:
        import diffusers

        diffusers.utils.logging.set_verbosity_error()
        diffusers.utils.logging.disable_progress_bar()
