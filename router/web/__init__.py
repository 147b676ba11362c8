"""Server-rendered pages: the customer status page (and later the ops console)."""
