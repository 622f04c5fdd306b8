"""ShopAgent: a LangGraph state machine that answers shoppers from real tool results."""

__version__ = "0.1.0"
