"""The suite interface: a named, verified list of prompts."""

from __future__ import annotations

from abc import ABC, abstractmethod

from evalkit.options import Component
from evalkit.types import Prompt


class Suite(Component, ABC):
    """Loads its prompts (ids stable across runs of the same suite version)."""

    @abstractmethod
    def prompts(self) -> list[Prompt]:
        """The suite's prompts in a fixed order."""
