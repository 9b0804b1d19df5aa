"""Data augmentation for images stored as H x W x C arrays."""

import numpy as np


class Transform:
    def __call__(self, x):
        raise NotImplementedError


class RandomFlipHorizontal(Transform):
    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        """Flip an image left to right with probability p.

        Inputs:
        - img: array of shape (H, W, C).

        Returns: array of shape (H, W, C): img mirrored along the width axis when
        the draw below says so, else img unchanged.
        """
        # Keep this draw as it is: one np.random.rand() call per image.
        flip_img = np.random.rand() < self.p
        ### BEGIN SOLUTION
        return img[:, ::-1, :] if flip_img else img
        ### END SOLUTION


class RandomCrop(Transform):
    def __init__(self, padding=3):
        self.padding = padding

    def __call__(self, img):
        """Zero-pad an image by `padding` on each side of H and W, then crop an H x W
        window shifted by (shift_x, shift_y) from the centre.

        Inputs:
        - img: array of shape (H, W, C).

        Returns: array of shape (H, W, C) whose pixel (i, j) is img[i + shift_x,
        j + shift_y], or 0 where that falls outside img.
        """
        # Keep this draw as it is: shift_x moves along H, shift_y along W.
        shift_x, shift_y = np.random.randint(low=-self.padding, high=self.padding + 1, size=2)
        ### BEGIN SOLUTION
        h, w, _ = img.shape
        p = self.padding
        padded = np.pad(img, ((p, p), (p, p), (0, 0)))
        return padded[p + shift_x:p + shift_x + h, p + shift_y:p + shift_y + w, :]
        ### END SOLUTION
