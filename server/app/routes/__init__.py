"""The API's routers, one file per resource; each handler is a thin adapter."""
