"""DINOv2 features and FD-DINOv2 against dgm-eval's definition (layer6ai-labs/dgm-eval):
its transform (torchvision Resize((224, 224), BICUBIC) + ToTensor + ImageNet Normalize, or
its clean_resize `pil_resize`), the CLS token after the final norm, and its Fréchet
distance (np.cov + scipy.linalg.sqrtm), recomputed here on features the test makes with
builtin:tiny-dinov2 (random weights, loaded through Dinov2Model.from_pretrained)."""

import numpy as np
import pytest
import scipy.linalg
import torch

from evalkit.builtin.procedural import draw as _draw_procedural
from evalkit.errors import UserError
from evalkit.metrics.extractors.dinov2 import IMAGENET_MEAN, IMAGENET_STD, Dinov2Extractor, dinov2_input
from evalkit.metrics.fid import fid_estimate
from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats


def images(seed0: int, n: int, size=(80, 96)) -> list[np.ndarray]:
    return [np.asarray(_draw_procedural(seed0 + i, 64).resize(size)) for i in range(n)]


@pytest.fixture(scope="module")
def dino():
    return Dinov2Extractor.create(model="builtin:tiny-dinov2")


def dgm_eval_transform(image: np.ndarray, clean: bool) -> torch.Tensor:
    """dgm-eval's DINOv2Encoder.transform, as written there (torchvision / its resizer)."""
    import torchvision.transforms as TF
    from PIL import Image

    pil = Image.fromarray(image)
    if clean:  # dgm_eval.resizer.pil_resize
        x = np.array(pil.convert("RGB")).astype(np.float32)
        channels = [np.asarray(Image.fromarray(x[:, :, c], mode="F").resize((224, 224), resample=Image.BICUBIC))
                    .clip(0, 255).reshape(224, 224, 1) for c in range(3)]
        tensor = TF.functional.to_tensor(np.concatenate(channels, axis=2).astype(np.float32)) / 255
    else:
        tensor = TF.Compose([TF.Resize((224, 224), TF.InterpolationMode.BICUBIC), TF.ToTensor()])(pil)
    return TF.Normalize(np.array(IMAGENET_MEAN), np.array(IMAGENET_STD))(tensor)


@pytest.mark.parametrize("clean", [False, True])
def test_preprocessing_is_dgm_evals(clean):
    for image in images(0, 3):
        ours = dinov2_input(image, "clean" if clean else "bicubic")
        np.testing.assert_array_equal(ours, dgm_eval_transform(image, clean).numpy())


def test_features_are_the_normed_cls_token(dino):
    batch = images(10, 5)
    x = torch.stack([dgm_eval_transform(im, False).float() for im in batch])
    with torch.no_grad():
        hidden = dino.model(pixel_values=x).last_hidden_state  # after the final layer norm
    np.testing.assert_allclose(dino.extract(batch), hidden[:, 0].numpy(), atol=1e-5)
    assert dino.dim == 32 and dino.provenance()["extractor"] == "dinov2"


def dgm_eval_fd(reps1: np.ndarray, reps2: np.ndarray) -> float:
    """dgm_eval.metrics.fd.compute_FD_with_reps (compute_statistics + compute_FD_with_stats)."""
    mu1, sigma1 = np.mean(reps1, axis=0), np.cov(reps1, rowvar=False)
    mu2, sigma2 = np.mean(reps2, axis=0), np.cov(reps2, rowvar=False)
    covmean, _ = scipy.linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean.real))


def test_fd_dinov2_equals_dgm_evals_formula(dino):
    gen, ref = dino.extract(images(100, 48)), dino.extract(images(500, 48, (64, 64)))
    ours = fid_estimate(gen, GaussianStats.of(ref), CIPlan(replicates=0))  # what fd computes
    assert ours.value == pytest.approx(dgm_eval_fd(ref, gen), rel=1e-6)
    assert ours.n == 48


def test_hub_model_offline_is_one_line_error():
    with pytest.raises(UserError, match="could not load DINOv2 model 'facebook/dinov2-small'") as err:
        Dinov2Extractor.create(model="facebook/dinov2-small")
    assert "\n" not in str(err.value) and "builtin:tiny-dinov2" in str(err.value)
