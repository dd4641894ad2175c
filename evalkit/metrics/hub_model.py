"""Models a metric loads with transformers `from_pretrained`: a hub id, a save_pretrained
folder, or a `builtin:` random-weight stand-in loaded through the same call; what goes into
the provenance (the reference, revision, resolved hub commit, a local folder's content)."""

from __future__ import annotations

import os
from typing import Any, Callable

from evalkit import builtin
from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint

RANDOM_WEIGHTS_NOTE = "RANDOM (built-in tiny model): the numbers check the pipeline, not quality"


class HubModel:
    """`ref` resolved to what from_pretrained takes (a built-in's folder, else as given)."""

    def __init__(self, ref: str, revision: str | None, what: str, offline_hint: str):
        self.ref, self.revision, self.what, self.hint = ref, revision, what, offline_hint
        self.random_weights = builtin.is_builtin(ref)
        self.source = str(builtin.resolve(ref)) if self.random_weights else ref

    def load(self, from_pretrained: Callable[..., Any], **kwargs) -> Any:
        """from_pretrained(source, revision=..., **kwargs), or one line saying what to do offline."""
        try:
            return from_pretrained(self.source, revision=self.revision, **kwargs)
        except (OSError, ValueError) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise UserError(f"could not load {self.what} '{self.ref}': {first} (offline? {self.hint})") from None

    def provenance(self, prefix: str, model) -> dict:
        """{prefix}_model / _revision / _commit (hub) / _dir_sha (folder) / _weights (random)."""
        info = {f"{prefix}_model": self.ref, f"{prefix}_revision": self.revision}
        commit = getattr(getattr(model, "config", None), "_commit_hash", None)
        if commit:
            info[f"{prefix}_commit"] = commit
        if os.path.isdir(self.source):
            info[f"{prefix}_dir_sha"] = dir_fingerprint(self.source)
        if self.random_weights:
            info[f"{prefix}_weights"] = RANDOM_WEIGHTS_NOTE
        return info
