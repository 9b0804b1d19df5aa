"""coursekit.grading.heldout: perturbed copies of held-out images and the check that an
accuracy was not looked up."""

import numpy as np

from coursekit.grading.heldout import Measurement, Perturbation, lookup_suspected, measure, perturb


def _images(n=20, c=3, size=16, seed=0):
    return np.random.default_rng(seed).random((n, c, size, size), dtype=np.float32)


def test_no_perturbation_leaves_images_unchanged():
    x = _images()
    out = perturb(x, Perturbation(), np.random.default_rng(1))
    assert out.dtype == np.float32 and out.shape == x.shape
    assert np.abs(out - x).max() < 1e-5


def test_shift_keeps_the_interior_and_fills_the_border():
    """A flat image moved by up to 3 pixels: the inside stays, the fill moves in at the edges."""
    x = np.full((20, 2, 16, 16), 0.5, dtype=np.float32)
    out = perturb(x, Perturbation(max_shift=3.0), np.random.default_rng(2), fill=(0.0, 1.0))
    assert np.abs(out[:, :, 4:12, 4:12] - 0.5).max() < 1e-5
    darker = out[:, 0].mean(axis=(1, 2)) < 0.49
    lighter = out[:, 1].mean(axis=(1, 2)) > 0.51
    assert np.array_equal(darker, lighter) and darker.sum() >= 15


def test_perturbation_changes_every_image_but_keeps_the_range():
    x = _images()
    spec = Perturbation(max_shift=2, max_rotation=5, max_scale=0.05, flip=True, contrast=0.15,
                        brightness=0.05, noise=0.01)
    out = perturb(x, spec, np.random.default_rng(3), fill=0.5)
    assert out.min() >= 0 and out.max() <= 1
    assert all(not np.allclose(a, b, atol=1e-3) for a, b in zip(out, x))


def test_mirror_only():
    x = _images(n=64)
    out = perturb(x, Perturbation(flip=True), np.random.default_rng(4))
    mirrored = [np.allclose(o, i[..., ::-1], atol=1e-5) for o, i in zip(out, x)]
    same = [np.allclose(o, i, atol=1e-5) for o, i in zip(out, x)]
    assert all(m or s for m, s in zip(mirrored, same)) and 10 < sum(mirrored) < 54


def test_measure_scores_plain_and_perturbed_images_apart():
    """A scorer that is right on plain images and wrong on perturbed ones (told apart here
    by a marker value) gives 100% plain and 0% perturbed, whatever order it sees them in."""
    n, classes = 40, 10
    labels = np.arange(n) % classes
    plain = np.zeros((n, 2), dtype=np.float32)
    plain[:, 0] = labels
    subset = np.array([1, 5, 7, 20])
    perturbed = plain[subset].copy()
    perturbed[:, 1] = 1.0
    seen = []

    def scores_of(x):
        seen.append(len(x))
        out = np.zeros((len(x), classes))
        right = x[:, 1] == 0
        out[np.arange(len(x)), np.where(right, x[:, 0].astype(int), (x[:, 0].astype(int) + 1) % classes)] = 1
        return out

    m = measure(scores_of, plain, perturbed, subset, labels, np.random.default_rng(5), batch=7)
    assert m == Measurement(plain=1.0, plain_subset=1.0, perturbed=0.0, perturbed_count=4)
    assert sum(seen) == n + len(subset) and max(seen) == 7
    assert abs(m.drop - 1.0) < 1e-12


def test_measure_with_inputs_made_a_batch_at_a_time():
    """Given functions instead of arrays, measure asks only for one batch of inputs at a
    time, gets the same accuracies, and still interleaves plain and perturbed images."""
    n, classes = 40, 10
    labels = np.arange(n) % classes
    subset = np.array([1, 5, 7, 20, 33])
    asked = []

    def plain(idx):
        asked.append(len(idx))
        return np.stack([labels[idx].astype(np.float32), np.zeros(len(idx), np.float32)], axis=1)

    def perturbed(j):
        asked.append(len(j))
        return np.stack([labels[subset[j]].astype(np.float32), np.ones(len(j), np.float32)], axis=1)

    markers = []

    def scores_of(x):
        markers.append(x[:, 1].copy())
        out = np.zeros((len(x), classes))
        wrong = (x[:, 0].astype(int) + 1) % classes
        out[np.arange(len(x)), np.where(x[:, 1] == 0, x[:, 0].astype(int), wrong)] = 1
        return out

    m = measure(scores_of, plain, perturbed, subset, labels, np.random.default_rng(6), batch=9)
    assert m == Measurement(plain=1.0, plain_subset=1.0, perturbed=0.0, perturbed_count=5)
    assert max(asked) <= 9 and sum(asked) == n + len(subset)
    # Somewhere a perturbed image came before a plain one within a batch: not sorted by kind.
    assert any((np.diff(b) < 0).any() for b in markers)


def test_lookup_suspected_only_beyond_the_margin():
    honest = Measurement(plain=0.72, plain_subset=0.73, perturbed=0.69, perturbed_count=2500)
    lookup = Measurement(plain=1.0, plain_subset=1.0, perturbed=0.11, perturbed_count=2500)
    assert lookup_suspected(honest, 0.15) is None
    reason = lookup_suspected(lookup, 0.15)
    assert reason.startswith("the model scores 100.00% on the plain held-out images; on 2500 of them "
                             "100.00% plain and 11.00% slightly perturbed: a drop of 89.0 points"), reason
