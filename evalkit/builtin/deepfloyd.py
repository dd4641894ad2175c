"""builtin:tiny-if-1, tiny-if-2, tiny-sd-x4-upscaler: random-weight DeepFloyd IF stages.

Same component classes and configuration keys as DeepFloyd/IF-I-XL-v1.0,
DeepFloyd/IF-II-L-v1.0 and stabilityai/stable-diffusion-x4-upscaler (T5 encoder with a
text projection, learned-variance UNets, noise-level class embeddings), at 16 -> 32 -> 128
pixels. Each is written with `save_pretrained` and loaded back like the real ones.
"""

from __future__ import annotations

from pathlib import Path

# IF's T5 width is 4096; the tiny one is 48, projected to the UNet's cross-attention size 32.
T5 = {"d_model": 48, "d_kv": 12, "d_ff": 64, "num_layers": 2, "num_heads": 4, "feed_forward_proj": "gated-gelu",
      "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0}

_UNET = {
    "layers_per_block": 1, "block_out_channels": [32, 64], "norm_num_groups": 8,
    "down_block_types": ["ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"],
    "mid_block_type": "UNetMidBlock2DSimpleCrossAttn",
    "up_block_types": ["SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"],
    "out_channels": 6, "cross_attention_dim": 32, "encoder_hid_dim": T5["d_model"], "encoder_hid_dim_type": "text_proj",
    "attention_head_dim": 8, "addition_embed_type": "text", "addition_embed_type_num_heads": 2,
    "cross_attention_norm": "group_norm", "resnet_time_scale_shift": "scale_shift", "act_fn": "gelu",
}

_SCHEDULER = {"num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2", "beta_start": 0.0001, "beta_end": 0.02,
              "variance_type": "learned_range", "prediction_type": "epsilon", "thresholding": True,
              "dynamic_thresholding_ratio": 0.95, "sample_max_value": 1.0}


def _save(pipe, out_dir: Path) -> None:
    from evalkit.hf import quiet_hf_logging

    quiet_hf_logging()
    pipe.set_progress_bar_config(disable=True)
    pipe.save_pretrained(out_dir)


def build_stage_1(out_dir: Path, seed: int = 0) -> None:
    """IFPipeline: T5 tokenizer + encoder, 16x16 pixel UNet; no safety checker or watermarker."""
    import torch
    from diffusers import DDPMScheduler, IFPipeline, UNet2DConditionModel
    from transformers import T5Config, T5EncoderModel

    from evalkit.builtin.tokenizers import t5_tokenizer

    torch.manual_seed(seed)
    tokenizer = t5_tokenizer()
    text_encoder = T5EncoderModel(T5Config(**T5, vocab_size=len(tokenizer)))
    unet = UNet2DConditionModel(sample_size=16, in_channels=3, **_UNET)
    pipe = IFPipeline(tokenizer=tokenizer, text_encoder=text_encoder, unet=unet, scheduler=DDPMScheduler(**_SCHEDULER),
                      safety_checker=None, feature_extractor=None, watermarker=None, requires_safety_checker=False)
    _save(pipe, out_dir)


def build_stage_2(out_dir: Path, seed: int = 0) -> None:
    """IFSuperResolutionPipeline 16 -> 32 without a text encoder (stage I's embeddings are reused)."""
    import torch
    from diffusers import DDPMScheduler, IFSuperResolutionPipeline, UNet2DConditionModel

    torch.manual_seed(seed + 1)
    unet = UNet2DConditionModel(sample_size=32, in_channels=6, class_embed_type="timestep", **_UNET)
    noising = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", beta_start=0.0001, beta_end=0.02)
    pipe = IFSuperResolutionPipeline(
        tokenizer=None, text_encoder=None, unet=unet, scheduler=DDPMScheduler(**_SCHEDULER),
        image_noising_scheduler=noising, safety_checker=None, feature_extractor=None, watermarker=None,
        requires_safety_checker=False,
    )
    _save(pipe, out_dir)


def build_stage_3(out_dir: Path, seed: int = 0) -> None:
    """StableDiffusionUpscalePipeline (x4, latent, CLIP text encoder) like the SD x4 upscaler."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, DDPMScheduler, StableDiffusionUpscalePipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from evalkit.builtin.tokenizers import clip_tokenizer

    torch.manual_seed(seed + 2)
    tokenizer = clip_tokenizer()
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
        max_position_embeddings=77, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    ))
    unet = UNet2DConditionModel(
        sample_size=32, in_channels=7, out_channels=4, layers_per_block=1, block_out_channels=(16, 32),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=8, use_linear_projection=True,
        num_class_embeds=400,
    )
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 16, 16), norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
        scaling_factor=0.08333,
    )
    pipe = StableDiffusionUpscalePipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
        low_res_scheduler=DDPMScheduler(beta_schedule="scaled_linear", beta_start=0.0001, beta_end=0.02),
        scheduler=DDIMScheduler(prediction_type="v_prediction", beta_schedule="scaled_linear",
                                beta_start=0.00085, beta_end=0.012, clip_sample=False, set_alpha_to_one=False),
        safety_checker=None, feature_extractor=None, watermarker=None, max_noise_level=350,
    )
    _save(pipe, out_dir)

