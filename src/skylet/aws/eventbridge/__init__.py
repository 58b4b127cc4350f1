"""EventBridge: buses, rules, targets, PutEvents and the event-pattern language."""
