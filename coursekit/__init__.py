"""coursekit: author deep-learning assignments once, release student kits, grade safely."""

__version__ = "0.1.0"
