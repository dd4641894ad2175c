"""Silence the Hugging Face libraries' progress bars and info logs; evalkit shows its own."""

from __future__ import annotations


def quiet_hf_logging() -> None:
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
