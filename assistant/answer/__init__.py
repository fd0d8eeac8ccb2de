"""The answer pipeline and the claim check, in named stages over retrieved evidence.

Imports `assistant.core`, `assistant.index` and `assistant.llm`; never a surface.
"""
