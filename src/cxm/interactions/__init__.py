"""Touchpoints from every channel, orders, and the importers that bring them in."""
