"""The bottom layer: settings, errors, view models, prompts and text primitives.

Everything else may import it; it imports nothing of the assistant.
"""
