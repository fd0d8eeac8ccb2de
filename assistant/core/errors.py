"""The assistant's own errors, and `check_k`, shared by the API and the llama-index retriever.
Each message says what went wrong and what to do about it.

The CLI turns them into exit codes, the web UI into messages; inside the package only what
can recover catches one (a document removed while a question reads it is passed over).
"""


class AssistantError(Exception):
    """Base class: anything the user can fix."""


class ConfigError(AssistantError):
    """A setting is invalid or a backend is unknown."""


class ModelMissingError(AssistantError):
    """A model file or package is absent or fails its checksum."""


class StoreError(AssistantError):
    """The Chroma store cannot be opened, is corrupt, or was built with another model."""


class InputError(AssistantError):
    """An argument of the API has the wrong type or shape (a caller's mistake)."""


class QuestionError(InputError):
    """The question is empty, too long or not a string."""


class UploadTooLarge(InputError):
    """The files uploaded at once exceed ASSISTANT_MAX_UPLOAD_MB."""


class DataDirError(ConfigError):
    """The data directory cannot be created or written (a file is in the way, no permission)."""


class BusyError(AssistantError):
    """The LLM is generating for others and the wait for it exceeded ASSISTANT_QUEUE_WAIT_S."""


class LLMError(AssistantError):
    """The configured LLM could not load or answer."""


class DocumentNotFound(AssistantError):
    """No document with that id is in the store."""


class EmptyStoreError(StoreError):
    """Nothing has been ingested yet, so no question can be answered."""


class EmbeddingError(AssistantError):
    """The embeddings server could not be reached or gave an unusable answer."""


def check_k(k: object) -> None:
    """InputError unless `k` (how many search hits) is None or a whole number from 1 to 50."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 50):
        raise InputError(f"k must be a whole number from 1 to 50, not {k!r}.")
