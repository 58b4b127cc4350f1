"""An order checkout that fails for orders without items: the function the alarms watch."""

import json


def handler(event, context):
    items = event.get("items") or []
    if not items:
        raise ValueError("an order needs at least one item")
    total = sum(item["price"] * item.get("quantity", 1) for item in items)
    print(json.dumps({"order": event.get("id"), "total": total}))
    return {"total": total}
