"""Feedback: surveys, questions, distributions, responses and the public survey pages."""
