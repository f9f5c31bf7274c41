"""`backlist serve`: the library in a browser (and the JSON API and MCP in the same server)."""
