"""Model backends: the async protocol and the built-in implementations."""
