"""The agent layer: understanding, answering, models, the graph, and its CLI and server."""
