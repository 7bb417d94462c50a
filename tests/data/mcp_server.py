"""A tiny MCP server over stdio for the capability loader's tests: two tools, add and weather."""

try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer as Server
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as Server

server = Server("tiny")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers and return their sum."""
    return a + b


@server.tool()
def weather(city: str) -> str:
    """Tell the current weather forecast for a city."""
    return f"sunny in {city}"


if __name__ == "__main__":
    server.run()
