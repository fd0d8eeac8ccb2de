"""Adapters that present an `Assistant` in other libraries' shapes (llama-index).

They take the assistant as an argument and import only `assistant.core`, so the boundary
(`assistant.api`) may hand them out without a cycle.
"""
