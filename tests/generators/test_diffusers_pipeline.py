"""diffusers_pipeline's scheduler_options and safety_checker options, on builtin:tiny-sd."""

from __future__ import annotations

import pytest

from evalkit.errors import UserError
from evalkit.generators.diffusers_pipeline import DiffusersPipelineGenerator
from evalkit.types import GenerationConfig


def test_defaults_keep_the_old_fingerprint():
    fp = DiffusersPipelineGenerator.create(model="builtin:tiny-sd").fingerprint()
    assert set(fp) == {"generator", "model", "dtype", "device", "scheduler", "model_dir_sha"}


def test_scheduler_swap_with_options(make_jobs):
    gen = DiffusersPipelineGenerator.create(model="builtin:tiny-sd", scheduler="EulerDiscreteScheduler", batch_size=2,
                                            scheduler_options={"timestep_spacing": "trailing"}, safety_checker=False)
    images = gen.generate(make_jobs(["a red cube"]), GenerationConfig(num_inference_steps=2, guidance_scale=3.0,
                                                                      negative_prompt="blurry"))
    assert images[0].size == (64, 64)
    assert type(gen.pipe.scheduler).__name__ == "EulerDiscreteScheduler"
    assert gen.pipe.scheduler.config.timestep_spacing == "trailing"
    fp = gen.fingerprint()
    assert fp["scheduler_options"] == {"timestep_spacing": "trailing"} and fp["safety_checker"] is False


def test_unknown_scheduler_option_is_an_error_before_any_image():
    gen = DiffusersPipelineGenerator.create(model="builtin:tiny-sd", scheduler="DDIMScheduler",
                                            scheduler_options={"timestep_spaceing": "trailing"})
    with pytest.raises(UserError, match="scheduler_options.timestep_spaceing: DDIMScheduler has no such option"):
        gen.check()
    with pytest.raises(UserError, match="'UNet2DConditionModel' is not a diffusers scheduler class"):
        DiffusersPipelineGenerator.create(model="builtin:tiny-sd", scheduler="UNet2DConditionModel").check()
    with pytest.raises(UserError, match="device 'cuda' is not available"):
        DiffusersPipelineGenerator.create(model="builtin:tiny-sd", device="cuda").check()
