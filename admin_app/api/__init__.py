"""The JSON API under /api: one router module per resource."""
