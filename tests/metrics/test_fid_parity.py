"""FID and KID against the peer libraries, all with the same real TF-2015 Inception weights.

- legacy-tf vs torchmetrics FrechetInceptionDistance(antialias=False) and torch-fidelity
  (fed the same weights converted to their layout);
- clean vs clean-fid mode="clean" (fed our network as its custom feature extractor);
- KID vs torch-fidelity's kid_features_to_metric on the same features.
"""

import numpy as np
import pytest
import torch

from evalkit.metrics.extractors.inception import InceptionExtractor
from evalkit.metrics.functional.frechet import frechet_distance, mean_and_cov
from evalkit.metrics.functional.kernel import kid_subsets
from evalkit.metrics.extractors.inception_weights import torchscript_to_pytorch_fid
from evalkit.builtin.procedural import draw as _draw_procedural

N = 24


def images(seed0: int, size: tuple[int, int]) -> list[np.ndarray]:
    """Procedural test images, resized to `size` (W, H) so the resize path is exercised."""
    return [np.asarray(_draw_procedural(seed0 + i, 64).resize(size)) for i in range(N)]


@pytest.fixture(scope="module")
def sets():
    return images(0, (80, 96)), images(1000, (80, 96))


@pytest.fixture(scope="module")
def peer_weights(tmp_path_factory):
    """Our default_1.pt weights in pytorch-fid / torch-fidelity / torchmetrics layout."""
    path = tmp_path_factory.mktemp("weights") / "pt_inception-from-default_1.pth"
    torch.save(torchscript_to_pytorch_fid(InceptionExtractor.create().torchscript_layers.state_dict()), path)
    return str(path)


def our_fid(a, b, resize):
    ex = InceptionExtractor.create(resize=resize)
    fa, fb = ex.extract(a), ex.extract(b)
    return frechet_distance(*mean_and_cov(fa), *mean_and_cov(fb)), fa, fb


@pytest.fixture(scope="module")
def legacy(sets):
    return our_fid(*sets, "legacy-tf")


def test_converted_weights_give_torch_fidelity_the_same_features(sets, peer_weights, legacy):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    fe = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=peer_weights).eval()
    with torch.no_grad():
        theirs = fe(torch.from_numpy(np.stack(sets[0])).permute(0, 3, 1, 2).contiguous())[0].numpy()
    np.testing.assert_allclose(legacy[1], theirs, atol=1e-4)


def test_legacy_tf_fid_matches_torchmetrics(sets, peer_weights, legacy):
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=2048, antialias=False, feature_extractor_weights_path=peer_weights)
    metric.update(torch.from_numpy(np.stack(sets[0])).permute(0, 3, 1, 2), real=True)
    metric.update(torch.from_numpy(np.stack(sets[1])).permute(0, 3, 1, 2), real=False)
    theirs = float(metric.compute())
    ours = legacy[0]
    assert ours > 1.0  # two genuinely different sets
    assert abs(ours - theirs) <= max(1e-3, 1e-4 * theirs), (ours, theirs)


def test_clean_fid_matches_clean_fid(sets, tmp_path):
    from cleanfid import fid as cleanfid
    from PIL import Image

    ours, fa, fb = our_fid(*sets, "clean")
    layers = InceptionExtractor.create(resize="clean").model

    def extractor(x):  # clean-fid hands over 299x299 float images in [0, 255]
        return layers((x - 128) / 128).reshape(len(x), -1)

    folders = []
    for name, imgs in zip("ab", sets):
        folder = tmp_path / name
        folder.mkdir()
        for i, img in enumerate(imgs):
            Image.fromarray(img).save(folder / f"{i:03d}.png")
        folders.append(str(folder))
    feats = [
        cleanfid.get_folder_features(f, model=extractor, num_workers=0, batch_size=8,
                                     device=torch.device("cpu"), mode="clean", verbose=False)
        for f in folders
    ]
    np.testing.assert_allclose(fa, feats[0], atol=1e-4)
    theirs = cleanfid.frechet_distance(
        np.mean(feats[0], axis=0), np.cov(feats[0], rowvar=False), np.mean(feats[1], axis=0), np.cov(feats[1], rowvar=False)
    )
    assert abs(ours - theirs) <= max(1e-3, 1e-4 * theirs), (ours, theirs)


def test_resize_modes_really_differ(sets, legacy):
    # If both modes fed the network the same pixels, the mode recorded with each number would be meaningless.
    clean = InceptionExtractor.create(resize="clean").extract(sets[0][:2])
    assert np.abs(clean - legacy[1][:2]).max() > 1e-2


def test_kid_matches_torch_fidelity(legacy):
    from torch_fidelity.metric_kid import kid_features_to_metric

    fa, fb = legacy[1], legacy[2]
    ours = kid_subsets(fa, fb, subset_size=10, subsets=20, seed=7)
    # float64 inputs: torch-fidelity computes in the dtype it is given (float32 by default).
    theirs = kid_features_to_metric(torch.from_numpy(fa).double(), torch.from_numpy(fb).double(), kid_subset_size=10, kid_subsets=20,
                                    rng_seed=7, verbose=False)
    assert np.mean(ours) == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-6)
    assert np.std(ours) == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-6)


def test_fast_network_matches_the_shipped_torchscript_graph():
    ex = InceptionExtractor.create()
    x = torch.rand(3, 3, 299, 299) * 2 - 1
    with torch.inference_mode():
        shipped = ex.torchscript_layers(x).reshape(3, -1)
        fast = ex.model(x)
    assert shipped.abs().max() > 1
    torch.testing.assert_close(fast, shipped, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("shape", [(64, 64, 3), (96, 80, 3), (300, 512, 3), (299, 299, 3)])
def test_legacy_tf_resize_is_bit_exact_with_torch_fidelity(shape):
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    from evalkit.metrics.extractors.resize import resize_legacy_tf

    img = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    theirs = interpolate_bilinear_2d_like_tensorflow1x(
        torch.from_numpy(img).permute(2, 0, 1)[None].float(), size=(299, 299), align_corners=False
    )[0].permute(1, 2, 0).numpy()
    assert np.array_equal(resize_legacy_tf(img), theirs)


def test_clean_resize_is_bit_exact_with_clean_fid():
    from cleanfid.resize import make_resizer

    from evalkit.metrics.extractors.resize import resize_clean

    img = np.random.default_rng(3).integers(0, 256, (96, 80, 3), dtype=np.uint8)
    assert np.array_equal(resize_clean(img), make_resizer("PIL", False, "bicubic", (299, 299))(img))
