"""Partnership Assistant: cited answers about the Microsoft-OpenAI partnership documents.

    from assistant import Assistant
    bot = Assistant(); bot.ingest(); print(bot.ask("How much will Stargate invest?").text)
"""

from assistant.api import Assistant, Chat
from assistant.core.errors import AssistantError
from assistant.core.models import Answer, Citation, Conflict, SearchHit
from assistant.core.settings import Settings

__all__ = ["Answer", "Assistant", "AssistantError", "Chat", "Citation", "Conflict", "SearchHit",
           "Settings"]
