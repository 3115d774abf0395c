"""Stand-in for the host's ``fastapi`` (the WebUI's API server): only ``exceptions``."""
