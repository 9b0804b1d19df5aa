"""Accuracy of a model whose forward pass runs in the student process, measured so that
looking up the public test set does not pay.

The held-out sets (CIFAR-10's test batch, MNIST's t10k) are public with their labels. A
"model" whose forward pass finds its input in that set and returns the known label
scores 100% on the plain images. So, next to the plain images, the student process gets
a random subset of them under a label-preserving perturbation (small shifts, rotations,
rescaling, flips where the classes allow them, contrast, brightness and pixel noise) drawn
from a seed made here, per grading, that never leaves this process; plain and perturbed
images are shuffled together, so the student process cannot tell which is which. An
honest model loses a few points on the perturbed copies; a lookup loses nearly
everything. The grade comes from the plain images (so it is the same from run to run),
but a drop from plain to perturbed beyond `margin` on the same images flags the
submission and scores it zero.

What this does not stop: a forward pass that searches the public set under every
perturbation it can think of (a nearest-neighbour search with invariances). That is no
longer a table lookup but a costly search, which the per-call deadline bounds. A model
that looks up only some of the plain images can gain at most `margin` over what it
earns honestly. A flagged submission's message gives both accuracies.

Calibration (2 CPU cores, three secret draws each): a2's challenge reference as CI trains
it (30 steps, 42.4% plain) drops 4.4-5.5 points on the perturbed copies; a1's reference
ConvNet (99.2%) drops 1.3-1.6 points. An exact lookup of the public labels drops 89-91
points; a nearest-neighbour lookup (Euclidean, over the public set) drops 45 points on
CIFAR-10 and 9 on MNIST. The graders' margins (15 and 5 points) sit about three times
above the honest drops.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Perturbation:
    """Ranges of the random label-preserving changes; each is drawn uniformly per image."""

    max_shift: float = 0.0      # translation, pixels, in each direction
    max_rotation: float = 0.0   # degrees
    max_scale: float = 0.0      # zoom by a factor in [1 - max_scale, 1 + max_scale]
    flip: bool = False          # mirror left-right with probability 1/2
    contrast: float = 0.0       # scale around the image's mean by [1 - contrast, 1 + contrast]
    brightness: float = 0.0     # add [-brightness, brightness] (pixel values in [0, 1])
    noise: float = 0.0          # standard deviation of added Gaussian noise


@dataclass(frozen=True)
class Measurement:
    plain: float          # accuracy on all plain images
    plain_subset: float   # accuracy on the plain images that were also perturbed
    perturbed: float      # accuracy on their perturbed copies
    perturbed_count: int

    @property
    def drop(self) -> float:
        return self.plain_subset - self.perturbed

    def describe(self) -> str:
        return (f"{100 * self.plain:.2f}% on the plain held-out images; on {self.perturbed_count} of "
                f"them {100 * self.plain_subset:.2f}% plain and {100 * self.perturbed:.2f}% slightly "
                "perturbed")


def secret_rng() -> np.random.Generator:
    """A generator seeded from the operating system, never from anything the student sees."""
    return np.random.default_rng(secrets.randbits(128))


def perturb(pixels: np.ndarray, spec: Perturbation, rng: np.random.Generator,
            fill=0.0) -> np.ndarray:
    """Perturbed copies of images.

    pixels: float array (N, C, H, W), values in [0, 1]. fill: the value (a number or one
    per channel) of pixels moved in from outside the image. Returns float32 (N, C, H, W),
    clipped to [0, 1].
    """
    import torch
    import torch.nn.functional as F

    x = np.asarray(pixels, dtype=np.float32)
    n, c = x.shape[:2]
    fill = np.broadcast_to(np.asarray(fill, dtype=np.float32), (c,)).reshape(1, c, 1, 1)

    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    contrast = rng.uniform(1 - spec.contrast, 1 + spec.contrast, (n, 1, 1, 1)).astype(np.float32)
    brightness = rng.uniform(-spec.brightness, spec.brightness, (n, 1, 1, 1)).astype(np.float32)
    x = (x - mean) * contrast + mean + brightness

    h, w = x.shape[2:]
    angle = np.deg2rad(rng.uniform(-spec.max_rotation, spec.max_rotation, n))
    zoom = rng.uniform(1 - spec.max_scale, 1 + spec.max_scale, n)
    shift = rng.uniform(-spec.max_shift, spec.max_shift, (n, 2))
    mirror = np.where(rng.random(n) < 0.5, -1.0, 1.0) if spec.flip else np.ones(n)
    # affine_grid maps output coordinates in [-1, 1] to input ones: the inverse of the
    # image's motion (rotate by angle, zoom, then move by shift pixels).
    cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
    theta = np.zeros((n, 2, 3))
    theta[:, 0, 0], theta[:, 0, 1] = cos * mirror, sin * (h / w)
    theta[:, 1, 0], theta[:, 1, 1] = -sin * mirror * (w / h), cos
    theta[:, 0, 2] = -2 * shift[:, 0] / w
    theta[:, 1, 2] = -2 * shift[:, 1] / h
    with torch.no_grad():
        t = torch.from_numpy(np.ascontiguousarray(x - fill))
        grid = F.affine_grid(torch.from_numpy(theta).float(), list(t.shape), align_corners=False)
        moved = F.grid_sample(t, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    x = moved.numpy() + fill
    if spec.noise:
        x = x + rng.normal(0.0, spec.noise, x.shape).astype(np.float32)
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def checked_scores(out, n: int, classes: int = 10) -> np.ndarray:
    """A student model's scores for n images, refused unless a finite (n, classes) array."""
    if type(out) is not np.ndarray or out.shape != (n, classes):
        raise AssertionError(f"the model should return scores of shape ({n}, {classes}) for "
                             f"{n} images, got {getattr(out, 'shape', type(out).__name__)}")
    if not np.all(np.isfinite(out)):
        raise AssertionError("the model returned NaN or infinite scores")
    return out


def _rows(source, idx: np.ndarray) -> np.ndarray:
    return np.asarray(source(idx) if callable(source) else source[idx])


def measure(scores_of, plain, perturbed, subset: np.ndarray, labels: np.ndarray,
            rng: np.random.Generator, batch: int) -> Measurement:
    """Accuracies of `scores_of` on plain images and on perturbed copies of some of them.

    scores_of(x) -> (len(x), K) scores, for model inputs x; labels: (N,) ints, one per
    plain image; subset: (M,) indices into the plain images. plain: the N model inputs,
    or a function giving the inputs of the plain images at an index array; perturbed: the
    M inputs where perturbed[i] is a copy of plain[subset[i]], or such a function (then
    only one batch of inputs is ever held in memory). Both sets go through scores_of
    shuffled together, in batches of `batch`, in an order drawn from `rng`.
    """
    labels = np.asarray(labels)
    subset = np.asarray(subset)
    n, m = len(labels), len(subset)
    order = rng.permutation(n + m)
    predicted = np.empty(n + m, dtype=np.int64)
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        is_plain = idx < n
        parts = [_rows(plain, idx[is_plain]), _rows(perturbed, idx[~is_plain] - n)]
        stacked = np.concatenate([p for p in parts if len(p)])
        # Back into the drawn order, so plain and perturbed images stay interleaved.
        x = np.empty_like(stacked)
        x[np.concatenate([np.flatnonzero(is_plain), np.flatnonzero(~is_plain)])] = stacked
        scores = scores_of(np.ascontiguousarray(x))
        predicted[idx] = np.argmax(scores, axis=1)
    right = predicted[:n] == labels
    right_perturbed = predicted[n:] == labels[subset]
    return Measurement(plain=float(right.mean()), plain_subset=float(right[subset].mean()),
                       perturbed=float(right_perturbed.mean()), perturbed_count=m)


def lookup_suspected(m: Measurement, margin: float) -> str | None:
    """Why the measurement looks like a lookup of the public labels, or None."""
    if m.drop <= margin:
        return None
    return (f"the model scores {m.describe()}: a drop of {100 * m.drop:.1f} points, where honest "
            f"models lose at most {100 * margin:.0f}. Its answers depend on finding the exact public "
            "test images, not on what they show, so its accuracy does not count")


def refuse_lookup(m: Measurement, margin: float, what: str, points: float, set_score) -> None:
    """Score 0, raise an integrity flag and fail the test when `m` looks like a lookup.

    `set_score` is the test's partial-credit setter; `what` names the model for the
    student and the staff.
    """
    reason = lookup_suspected(m, margin)
    if reason is None:
        return
    from coursekit.grading import flag

    set_score(0)
    flag("integrity", f"{what}: {reason}")
    raise AssertionError(f"{what}: {reason}. Score: 0 of {points:g} points; the course staff can "
                         "see this message.")
