"""ShopAgent's tools over the Model Context Protocol (the maintained ``mcp`` SDK).

* :mod:`.tools` builds the MCP server (the one registration point): catalog, product,
  price/stock, policy, the signed-in shopper's orders, and two-step (propose, then confirm)
  return and cancel writes;
* :mod:`.tools_changes` adds the support actions (exchange, item, shipping address and
  payment changes, the default address), :mod:`.tools_returns` multi-item returns;
* :mod:`.mapping` is the protocol mapping table (MCP tool, ShopAgent function, UCP name);
* :mod:`.confirmations` signs the confirmation tokens a propose call hands out;
* :mod:`.identity` says who the shopper is (serve's signed token on HTTP, the host's
  ``--customer`` on stdio);
* :mod:`.http` mounts ``/mcp`` (streamable HTTP) on ``shopagent serve``;
* :mod:`.stdio` is ``shopagent mcp`` (stdio).
"""
