"""The Heymarket API layer: auth, HTTP client, models and paging. Knows nothing of Textual."""

from hmtui.api.auth import Credentials, TokenSigner
from hmtui.api.client import DEFAULT_BASE_URL, HeymarketClient, normalize_phone
from hmtui.api.errors import (
    ApiError,
    ApiTimeoutError,
    AuthError,
    BadRequestError,
    ForbiddenError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from hmtui.api.models import Conversation, Id, Inbox, Message, Team, TeamMember
from hmtui.api.paging import Pager
from hmtui.api.retry import RetryEvent, RetryPolicy
from hmtui.api.semantics import MessageKind

__all__ = [
    "ApiError", "ApiTimeoutError", "AuthError", "BadRequestError", "Conversation", "Credentials",
    "DEFAULT_BASE_URL", "ForbiddenError", "HeymarketClient", "Id", "Inbox", "MalformedResponseError",
    "Message", "MessageKind", "NetworkError", "NotFoundError", "Pager", "RateLimitedError",
    "RetryEvent", "RetryPolicy", "ServerError", "Team", "TeamMember", "TokenSigner", "normalize_phone",
]
