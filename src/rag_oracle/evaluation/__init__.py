"""Evaluation stage: metric functions and (later) the batch evaluation harness."""
