"""Helpers to look at what a network learned."""
import numpy as np


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile a stack of small images into one large image, for plotting.

    Each image is rescaled on its own so that its smallest value maps to 0 and its
    largest to `ubound`; this shows the pattern of every filter, whatever its
    scale. The images fill a square grid row by row; unused cells stay 0.

    Inputs:
    - Xs: array of shape (N, H, W, C), N images (C = 3 for RGB, 1 for grayscale).
      First-layer filters of shape (F, C, HH, WW) become this shape with
      W1.transpose(0, 2, 3, 1).
    - ubound: the brightest value of the output (255 for plt.imshow of uint8
      images, 1 for floats).
    - padding: number of blank pixels between neighbouring images.

    Returns:
    - grid: float array of shape (G * (H + padding) - padding,
      G * (W + padding) - padding, C), where G = ceil(sqrt(N)).
    """
    N, H, W, C = Xs.shape
    G = int(np.ceil(np.sqrt(N)))
    grid = np.zeros((G * (H + padding) - padding, G * (W + padding) - padding, C))
    for idx in range(N):
        row, col = divmod(idx, G)
        top, left = row * (H + padding), col * (W + padding)
        img = Xs[idx].astype(np.float64)
        low, high = img.min(), img.max()
        # A constant image has no pattern to stretch; it stays black.
        scale = ubound / (high - low) if high > low else 0.0
        grid[top:top + H, left:left + W] = (img - low) * scale
    return grid
