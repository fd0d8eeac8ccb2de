"""The assistant's own errors. Each message says what went wrong and what to do about it.

The CLI turns them into exit codes, the web UI into messages; nothing else catches them.
"""


class AssistantError(Exception):
    """Base class: anything the user can fix."""


class ConfigError(AssistantError):
    """A setting is invalid or a backend is unknown."""


class ModelMissingError(AssistantError):
    """A model file or package is absent or fails its checksum."""


class StoreError(AssistantError):
    """The Chroma store cannot be opened, is corrupt, or was built with another model."""


class QuestionError(AssistantError):
    """The question is empty or too long."""


class LLMError(AssistantError):
    """The configured LLM could not load or answer."""


class DocumentNotFound(AssistantError):
    """No document with that id is in the store."""


class EmptyStoreError(StoreError):
    """Nothing has been ingested yet, so no question can be answered."""


class EmbeddingError(AssistantError):
    """The embeddings server could not be reached or gave an unusable answer."""
