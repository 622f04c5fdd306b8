"""The protocol mapping: MCP tool -> ShopAgent function -> UCP name (the README's table;
tests/test_mcp_mapping.py keeps the three in step with the tools the server lists)."""

TOOL_MAP: list[tuple[str, str, str]] = [
    ("search_catalog", "search_products", "search_catalog"),
    ("get_product", "get_product_details", "get_product"),
    ("check_price_stock", "check_price_stock", "- (lookup_catalog is the closest)"),
    ("get_return_policy", "lookup_return_policy", "-"),
    ("list_orders", "list_orders (order history)", "-"),
    ("get_order", "get_order_status(order_number)", "get_order"),
    ("propose_return", "check_return_eligibility", "-"),
    ("confirm_return", "start_return", "-"),
    ("propose_cancel", "check_cancel_eligibility (+ cancel_reason_problems)", "-"),
    ("confirm_cancel", "cancel_order(reason)", "-"),
    ("propose_return_items", "check_returns", "-"),
    ("confirm_return_items", "do_change(return_items)", "-"),
    ("propose_exchange", "check_swap(exchange=True)", "-"),
    ("confirm_exchange", "do_change(exchange_items)", "-"),
    ("propose_item_change", "check_swap(exchange=False)", "-"),
    ("confirm_item_change", "do_change(modify_items)", "-"),
    ("propose_shipping_address", "check_address(order_number)", "-"),
    ("confirm_shipping_address", "do_change(modify_address)", "-"),
    ("list_payment_methods", "payment_methods(customer) (labels only)", "-"),
    ("propose_payment_change", "check_payment", "-"),
    ("confirm_payment_change", "do_change(modify_payment)", "-"),
    ("propose_default_address", "check_address (no order)", "-"),
    ("confirm_default_address", "do_change(change_default_address)", "-"),
]
