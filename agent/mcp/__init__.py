"""ShopAgent's tools over the Model Context Protocol (the maintained ``mcp`` SDK).

* :mod:`.tools` builds the MCP server: catalog, product, price/stock, policy, the signed-in
  shopper's orders, and two-step (propose, then confirm) return and cancel writes;
* :mod:`.confirmations` signs the confirmation tokens a propose call hands out;
* :mod:`.identity` says who the shopper is (serve's signed token on HTTP, the host's
  ``--customer`` on stdio);
* :mod:`.http` mounts ``/mcp`` (streamable HTTP) on ``shopagent serve``;
* :mod:`.stdio` is ``shopagent mcp`` (stdio).
"""
