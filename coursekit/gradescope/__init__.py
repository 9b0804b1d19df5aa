"""Gradescope packaging (`package`) and the per-submission entry point (`run`)."""
