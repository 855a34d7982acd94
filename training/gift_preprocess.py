"""Image preprocessing shared by training and inference.

The TypeScript side (src/core/model/onnx-preprocess.ts) implements the very same steps; the model
card records them so both sides agree. Steps:
  1. decode to RGBA, composite alpha over white;
  2. grayscale = 0.299 R + 0.587 G + 0.114 B (floats in 0..255);
  3. pad to a square with white, centred (the extra pixel, if odd, goes right/bottom);
  4. area-average resize to SIZE x SIZE (exact box filter: each output pixel is the mean of the
     input area it covers, fractional pixels weighted) -- reproducible bit-for-bit-ish in numpy and
     TypeScript, unlike library resamplers;
  5. x = (255 - gray) / 255, so background is 0 and ink is positive (then (x - MEAN) / STD).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

PREPROCESS_SPEC = {
    "background": "white",
    "grayscale": [0.299, 0.587, 0.114],
    "pad": "square-center-white",
    "resize": "area",
    "invert": True,
    "mean": 0.0,
    "std": 1.0,
}


@lru_cache(maxsize=16)
def area_weights(size_in: int, size_out: int) -> np.ndarray:
    """[size_out, size_in] matrix whose rows average the input span each output pixel covers."""
    scale = size_in / size_out
    weights = np.zeros((size_out, size_in), dtype=np.float64)
    for o in range(size_out):
        start, end = o * scale, (o + 1) * scale
        first, last = int(np.floor(start)), min(int(np.ceil(end)), size_in)
        for i in range(first, last):
            overlap = min(end, i + 1) - max(start, i)
            if overlap > 0:
                weights[o, i] = overlap / scale
    return weights


def gray_from_image(image: Image.Image) -> np.ndarray:
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)
    alpha = rgba[..., 3:4] / 255.0
    rgb = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)
    coeffs = np.array(PREPROCESS_SPEC["grayscale"], dtype=np.float64)
    return rgb @ coeffs


def preprocess_gray(gray: np.ndarray, size: int) -> np.ndarray:
    """gray: [H, W] floats 0..255 -> [size, size] float32 model input."""
    height, width = gray.shape
    side = max(height, width)
    if height != width:
        square = np.full((side, side), 255.0, dtype=np.float64)
        top, left = (side - height) // 2, (side - width) // 2
        square[top:top + height, left:left + width] = gray
        gray = square
    w = area_weights(side, size)
    resized = w @ gray @ w.T
    x = (255.0 - resized) / 255.0
    x = (x - PREPROCESS_SPEC["mean"]) / PREPROCESS_SPEC["std"]
    return x.astype(np.float32)


def preprocess_file(path: str, size: int) -> np.ndarray:
    with Image.open(path) as image:
        return preprocess_gray(gray_from_image(image), size)
