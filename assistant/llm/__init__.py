"""The language models: the local GGUF run by llama.cpp, or an OpenAI-compatible endpoint.

Imports only `assistant.core`. Not here: prompts' wording (`core.prompts`) or what to ask.
"""
