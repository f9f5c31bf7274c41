"""Every CLI command (subcommands included) and every MCP tool and prompt is documented in the
README: a command as `backlist <command>` in it, a tool or prompt as a `name` code span in its MCP
section. The names come from the running app and server, not from a list kept here."""

from __future__ import annotations

import asyncio
import re

import typer.main
from conftest import ROOT

from backlist.cli import app
from backlist.mcp_server import create_server

README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_paths(group, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every command's path under a (Typer's own click) group, subcommands included."""
    ctx = group.context_class(group)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        paths.append(" ".join((*prefix, name)))
        if hasattr(command, "list_commands"):
            paths += command_paths(command, (*prefix, name))
    return paths


def mcp_section() -> str:
    match = re.search(r"^## [^\n]*\bMCP\b.*?(?=^## )", README, flags=re.M | re.S)
    assert match, "the README has no MCP section (a '## ...MCP...' heading)"
    return match.group(0)


def test_every_cli_command_is_in_the_readme():
    paths = command_paths(typer.main.get_command(app))
    assert {"ingest", "search", "serve", "mcp"} <= set(paths)
    assert any(" " in p for p in paths)  # the walk reached the subcommands (topics ..., metrics ...)
    missing = [p for p in paths if not re.search(rf"\bbacklist {re.escape(p)}\b(?![-\w])", README)]
    assert not missing, f"README.md never shows these commands as `backlist <command>`: {missing}"


def test_every_mcp_tool_and_prompt_is_in_the_readme(tmp_path):
    server = create_server(tmp_path / "lib")
    tools = [t.name for t in asyncio.run(server.list_tools())]
    prompts = [p.name for p in asyncio.run(server.list_prompts())]
    assert "search" in tools and "related" in tools and prompts
    section = mcp_section()
    missing = [n for n in tools + prompts if f"`{n}`" not in section]
    assert not missing, f"README.md's MCP section does not name these tools/prompts: {missing}"
