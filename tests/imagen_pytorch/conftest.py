"""The tiny imagen-pytorch cascade, trained once per session, and the Hugging Face cache entry
`import imagen_pytorch` needs: google/t5-v1_1-base's config.json, written here (never fetched)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

T5_BASE = "google/t5-v1_1-base"
# The published config of google/t5-v1_1-base (the import reads only d_model from it).
T5_BASE_CONFIG = {
    "architectures": ["T5ForConditionalGeneration"], "d_ff": 2048, "d_kv": 64, "d_model": 768,
    "decoder_start_token_id": 0, "dropout_rate": 0.1, "eos_token_id": 1, "feed_forward_proj": "gated-gelu",
    "initializer_factor": 1.0, "is_encoder_decoder": True, "layer_norm_epsilon": 1e-06, "model_type": "t5",
    "num_decoder_layers": 12, "num_heads": 12, "num_layers": 12, "output_past": True, "pad_token_id": 0,
    "relative_attention_num_buckets": 32, "tie_word_embeddings": False, "vocab_size": 32128,
}


def write_hub_cache_entry(hub: Path, repo: str, files: dict[str, str]) -> Path:
    """A Hugging Face hub cache entry (refs/main -> snapshots/<commit>/...) as huggingface_hub lays it out."""
    folder = hub / ("models--" + repo.replace("/", "--"))
    commit = "0" * 40
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(commit)
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (snapshot / name).write_text(text)
    return folder


@pytest.fixture(scope="session")
def hf_hub_cache(tmp_path_factory):
    """HF_HUB_CACHE (for subprocesses) and huggingface_hub's constant (for this process) point at
    a cache that holds google/t5-v1_1-base's config; tests are offline (HF_HUB_OFFLINE=1)."""
    from huggingface_hub import constants

    hub = tmp_path_factory.mktemp("hf") / "hub"
    write_hub_cache_entry(hub, T5_BASE, {"config.json": json.dumps(T5_BASE_CONFIG)})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_CACHE", str(hub))
        patch.setattr(constants, "HF_HUB_CACHE", str(hub))
        yield hub


@pytest.fixture(scope="session")
def tiny(hf_hub_cache, tmp_path_factory):
    """The tiny cascade: 2 unets (16 -> 32 px) trained 2 steps each with ImagenTrainer, trainer.save()d."""
    from evalkit.generators.imagen_pytorch_tiny import train_tiny

    return train_tiny(tmp_path_factory.mktemp("tiny-imagen"), steps=2, seed=0)
