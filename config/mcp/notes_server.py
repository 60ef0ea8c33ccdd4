"""A small stateful MCP server (stdio) for the agent example: notes saved, read and listed.

    python config/mcp/notes_server.py        # speaks MCP on stdin/stdout; gage starts it per sample
"""
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError  # its message reaches the model; other errors stay here

server = MCPServer("notes")
NOTES: dict[str, str] = {}


@server.tool()
def save_note(title: str, text: str) -> str:
    """Save a note under a title (replacing any note with that title)."""
    NOTES[title] = text
    return f"saved '{title}'"


@server.tool()
def read_note(title: str) -> str:
    """Read the note with this title."""
    if title not in NOTES:
        raise ToolError(f"there is no note titled '{title}'")
    return NOTES[title]


@server.tool()
def list_notes() -> str:
    """The titles of all notes, comma-separated in alphabetical order."""
    return ",".join(sorted(NOTES))


if __name__ == "__main__":
    server.run()
