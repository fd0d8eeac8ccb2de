"""The surfaces: CLI, HTTP API, web UI, MCP server and the one served app that composes them.

Each is a thin shell over `assistant.api.Assistant` and the view models; none imports the
layers below the boundary.
"""
