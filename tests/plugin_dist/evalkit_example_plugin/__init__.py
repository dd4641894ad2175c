"""An example evalkit plugin. Each class subclasses evalkit's interface for its kind and
declares its options as a pydantic model; evalkit finds them through the entry points in
pyproject.toml, validates spec options against them, and runs them like its own."""

from __future__ import annotations

import hashlib

import numpy as np
from pydantic import Field

from evalkit.generators.base import Generator, GeneratorOptions
from evalkit.metrics.base import Metric
from evalkit.metrics.stats import bootstrap_mean_ci
from evalkit.options import Options
from evalkit.results import Estimate, MetricResult
from evalkit.suites.base import Suite
from evalkit.types import Prompt

COLOURS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (40, 60, 220), "white": (245, 245, 245)}


class ColourSquaresOptions(Options):
    colours: list[str] = Field(default_factory=lambda: list(COLOURS), min_length=1)


class ColourSquares(Suite):
    """One prompt per colour: 'a red square', ... (category: the colour)."""

    Options = ColourSquaresOptions

    def prompts(self) -> list[Prompt]:
        return [Prompt(id=f"square-{c}", text=f"a {c} square", category=c) for c in self.options.colours]


class GradientOptions(GeneratorOptions):
    size: int = Field(32, ge=8, le=512)


class GradientGenerator(Generator):
    """A 'model' that paints the colour named in the prompt over a seeded noise gradient."""

    Options = GradientOptions

    def generate(self, jobs, config) -> list:
        from PIL import Image

        out = []
        for job in jobs:
            rgb = next((v for k, v in COLOURS.items() if k in job.prompt.text), (128, 128, 128))
            rng = np.random.default_rng(job.seed)
            ramp = np.linspace(0.6, 1.0, self.options.size)[:, None, None] * config.guidance_scale / 7.5
            noise = rng.integers(-20, 21, (self.options.size, self.options.size, 3))
            out.append(Image.fromarray(np.clip(np.array(rgb) * ramp + noise, 0, 255).astype(np.uint8)))
        return out

    def fingerprint(self) -> dict:
        code = hashlib.sha256(GradientGenerator.generate.__code__.co_code).hexdigest()[:12]
        return {"generator": "gradient", "size": self.options.size, "code": code}


class BrightnessOptions(Options):
    resamples: int = Field(1000, ge=10)


class Brightness(Metric, higher_is_better=True):
    """Mean pixel brightness in [0, 1], with a bootstrap CI over prompts and per category."""

    Options = BrightnessOptions

    def compute(self, ctx, name: str) -> MetricResult:
        from PIL import Image

        values = np.array([np.asarray(Image.open(p).convert("L"), float).mean() / 255 for p in ctx.images.paths()])
        samples = ctx.samples

        def estimate(mask) -> Estimate:
            low, high = bootstrap_mean_ci(values[mask], resamples=self.options.resamples)
            return Estimate(float(values[mask].mean()), low, high, n=int(mask.sum()))

        categories = {c: estimate((samples["category"] == c).to_numpy()) for c in sorted(samples["category"].dropna().unique())}
        everything = np.ones(len(values), bool)
        return MetricResult(name, True, {name: estimate(everything)}, {name: categories}, {"brightness_of": "luma (PIL L)"})


class NotAMetric:
    """Registered by mistake: evalkit refuses it with a clear error when a spec names it."""
