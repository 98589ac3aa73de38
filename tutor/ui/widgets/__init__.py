"""Widgets: prose, code cells, output, charts, images, status line."""
