"""ShopAgent as an HTTP service: threads API with SSE streaming, an OpenAI-compatible
endpoint, the chat widget, API keys, signed shopper identity, metrics, JSON logs."""

from shopagent.agent.server.app import create_app
from shopagent.agent.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app"]
