"""Documents into the store and back out: loading, chunking, embedding, Chroma, retrieval.

Imports only `assistant.core`. Knows nothing of questions or answers.
"""
