"""The provided fast layers and visualization helper of a2 part 3, tested in-process.

The fast layers must reproduce the reference naive layers (to 1e-9 in float64) on
every geometry the assignment uses and on awkward ones, keep float32 inputs in
float32, and route tied max-pool gradients to the first maximum like the naive layer.
"""
from pathlib import Path

import numpy as np
import pytest

from a2_reference import SOURCE, import_reference  # noqa: F401


@pytest.fixture(scope="module")
def kit():
    """The reference modules (solution code): layers, fast_layers, vis_utils."""
    names = ("layers", "fast_layers", "vis_utils")
    return dict(zip(names, import_reference(*names)))


def rel_error(x, y):
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


CONV_CASES = [
    # (x shape, w shape, stride, pad)
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1),
    ((3, 2, 9, 7), (3, 2, 3, 2), 2, 0),
    ((2, 3, 8, 8), (2, 3, 4, 4), 3, 2),     # stride does not divide the padded size
    ((1, 1, 5, 5), (1, 1, 5, 5), 1, 0),     # one output position
    ((2, 3, 32, 32), (5, 3, 7, 7), 1, 3),   # the three-layer net's geometry
    ((2, 4, 6, 9), (3, 4, 1, 1), 1, 0),     # 1x1 filters
    ((1, 2, 7, 7), (2, 2, 3, 3), 4, 1),     # stride larger than the filter
]


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV_CASES)
def test_fast_conv_matches_naive(kit, x_shape, w_shape, stride, pad):
    layers, fast = kit["layers"], kit["fast_layers"]
    rng = np.random.default_rng(hash((x_shape, w_shape, stride, pad)) % 2**32)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    x_before = x.copy()
    param = {"stride": stride, "pad": pad}
    out_naive, cache_naive = layers.conv_forward_naive(x, w, b, param)
    out_fast, cache_fast = fast.conv_forward_fast(x, w, b, param)
    assert out_fast.shape == out_naive.shape
    assert rel_error(out_fast, out_naive) < 1e-9
    dout = rng.standard_normal(out_naive.shape)
    for g_naive, g_fast, name in zip(layers.conv_backward_naive(dout, cache_naive),
                                     fast.conv_backward_fast(dout, cache_fast), ("dx", "dw", "db")):
        assert g_fast.shape == g_naive.shape, name
        assert rel_error(g_fast, g_naive) < 1e-9, name
    np.testing.assert_array_equal(x, x_before)


POOL_CASES = [
    # (x shape, pool_height, pool_width, stride)
    ((2, 3, 8, 8), 2, 2, 2),     # windows tile the input
    ((2, 2, 7, 9), 3, 2, 2),     # rectangular, does not cover the input exactly
    ((2, 2, 6, 6), 3, 3, 1),     # overlapping windows
    ((1, 2, 5, 7), 2, 3, 3),     # gaps between windows
    ((2, 3, 9, 9), 2, 2, 2),     # odd size: the last row and column are dropped
    ((1, 1, 4, 4), 4, 4, 4),     # one window over everything
]


@pytest.mark.parametrize("x_shape,ph,pw,stride", POOL_CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_fast_pool_matches_naive(kit, x_shape, ph, pw, stride, ties):
    layers, fast = kit["layers"], kit["fast_layers"]
    rng = np.random.default_rng(hash((x_shape, ph, pw, stride, ties)) % 2**32)
    if ties:
        x = rng.integers(0, 3, size=x_shape).astype(np.float64)
    else:
        x = rng.standard_normal(x_shape)
    param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out_naive, cache_naive = layers.max_pool_forward_naive(x, param)
    out_fast, cache_fast = fast.max_pool_forward_fast(x, param)
    np.testing.assert_array_equal(out_fast, out_naive)
    dout = rng.standard_normal(out_naive.shape)
    dx_naive = layers.max_pool_backward_naive(dout, cache_naive)
    dx_fast = fast.max_pool_backward_fast(dout, cache_fast)
    assert dx_fast.shape == x.shape
    assert rel_error(dx_fast, dx_naive) < 1e-12
    # Exactly one input per window receives that window's gradient.
    np.testing.assert_allclose(dx_fast.sum(), dout.sum(), rtol=1e-10)


def test_fast_layers_keep_float32(kit):
    fast = kit["fast_layers"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = np.zeros(4, np.float32)
    out, cache = fast.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    grads = fast.conv_backward_fast(np.ones_like(out), cache)
    pooled, pcache = fast.max_pool_forward_fast(out, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = fast.max_pool_backward_fast(np.ones_like(pooled), pcache)
    assert {a.dtype for a in (out, pooled, dx, *grads)} == {np.dtype(np.float32)}


def test_fast_conv_agrees_with_torch_in_float32(kit):
    """The training geometry in float32, against an independent implementation."""
    torch = pytest.importorskip("torch")
    fast = kit["fast_layers"]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 32, 32)).astype(np.float32)
    w = rng.standard_normal((8, 3, 7, 7)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    out, _ = fast.conv_forward_fast(x, w, b, {"stride": 1, "pad": 3})
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=3)
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-4, atol=1e-4)


def test_visualize_grid(kit):
    vis = kit["vis_utils"]
    rng = np.random.default_rng(2)
    filters = rng.standard_normal((5, 4, 3, 3))  # (F, H, W, C): 5 images need a 3x3 grid
    filters[4] = 7.0  # a constant image stays black instead of dividing by zero
    grid = vis.visualize_grid(filters, ubound=255.0, padding=2)
    assert grid.shape == (3 * 4 + 2 * 2, 3 * 3 + 2 * 2, 3)
    first = grid[:4, :3]
    assert first.min() == 0.0 and first.max() == pytest.approx(255.0)
    # The first image, rescaled to [0, 255], sits in the top-left cell.
    f0 = filters[0]
    np.testing.assert_allclose(first, 255.0 * (f0 - f0.min()) / (f0.max() - f0.min()))
    # The constant image (index 4: row 1, column 1) and the unused cells are 0.
    assert np.all(grid[6:10, 5:8] == 0)
    assert np.all(grid[12:, 5:] == 0)
