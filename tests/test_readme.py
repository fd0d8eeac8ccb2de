"""The README stays true: every setting is documented and CI runs the README's test command."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, local_server

from assistant.core.settings import Settings

VENV_BIN = Path(sys.executable).parent

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme() -> None:
    missing = [f"ASSISTANT_{name.upper()}" for name in Settings.model_fields
               if f"ASSISTANT_{name.upper()}" not in README]
    assert not missing


def test_ci_runs_the_readme_test_command() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    command = [line for line in lines if line and not line.startswith(("#", "set ", "cd "))][-1]
    assert f"`{command}`" in README or f"\n{command}\n" in README


# --- the usage examples run as written (paths, port and the extractive backend aside) ----------
def _section(title: str) -> str:
    start = README.index(f"### {title}")
    return README[start:README.index("\n### ", start + 1)]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def test_http_api_examples_work_as_written(tmp_path: Path) -> None:
    """`assistant serve` as the README starts it (on a free port, extractive answers), then the
    README's curl lines and openai script, unchanged but for the port."""
    shell, = _blocks(_section("HTTP API"), "bash")
    serve_line, *commands = [line for line in shell.replace("\\\n", "").splitlines() if line.strip()]
    argv = shlex.split(serve_line.split("&")[0].split("#")[0])
    assert argv == [".venv/bin/assistant", "serve"]
    with local_server([str(VENV_BIN / "assistant"), "serve", "--llm", "none", "--port", "{port}"],
                      "/healthz", 240) as url:
        script = "\n".join(commands).replace("http://127.0.0.1:7860", url)
        run = subprocess.run(["bash", "-c", f"set -e\n{script}"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        outputs, rest = [], run.stdout.strip()
        while rest:  # curl prints each JSON body without a newline after it
            value, end = json.JSONDecoder().raw_decode(rest)
            outputs.append(value)
            rest = rest[end:].strip()
        answer, search, upload, listing = outputs
        assert "Abilene" in answer["choices"][0]["message"]["content"]
        assert answer["choices"][0]["message"]["citations"][0]["quote"] in answer_text(url, answer)
        assert "Abilene" in search["data"][0]["text"]
        assert upload["data"][0]["status"] == "added"
        assert upload["data"][0]["source"] == "uploads/heron-memo.txt"
        assert "uploads/heron-memo.txt" in [d["source"] for d in listing["data"]]
        python, = _blocks(_section("HTTP API"), "python")
        run = subprocess.run([sys.executable, "-c", python.replace("http://127.0.0.1:7860", url)],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert "Abilene" in lines[0] and lines[0].endswith("refused: False")
        assert lines[1].startswith("[1] ") and lines[-1] in lines[0]  # streamed == complete text


def answer_text(url: str, answer: dict[str, object]) -> str:
    """The text of the first cited document, from the API."""
    import urllib.request

    cite = answer["choices"][0]["message"]["citations"][0]  # type: ignore[index]
    with urllib.request.urlopen(f"{url}/v1/documents/{cite['doc_id']}") as response:
        text = json.loads(response.read())["text"]
    return str(text[cite["start"]:cite["end"]])


def test_mcp_client_configuration_works_as_written(tmp_path: Path) -> None:
    """The README's client configuration, with the clone's path filled in (and a temp data
    directory, extractive answers and this checkout on the path), used by the official client."""
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    config, = _blocks(_section("MCP server"), "json")
    config = (config.replace("/path/to/partnership-assistant/.assistant", str(tmp_path / "data"))
              .replace("/path/to/partnership-assistant/.venv/bin", str(VENV_BIN))
              .replace("/path/to/partnership-assistant", str(ROOT)))
    server = json.loads(config)["mcpServers"]["partnership-assistant"]
    extra = {k: v for k, v in os.environ.items()
             if k in ("PYTHONPATH", "HF_HUB_OFFLINE", "ASSISTANT_MODEL_DIR")}
    params = StdioServerParameters(command=server["command"], args=server["args"],
                                   env={**server["env"], **extra, "ASSISTANT_LLM": "none"})

    async def use() -> tuple[set[str], dict[str, object], str]:
        async with Client(params, read_timeout_seconds=300) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool("ask", {"question": "Where is the first Stargate site?"})
            answer = result.structured_content or {}
            doc = await client.read_resource(f"document://{answer['citations'][0]['doc_id']}")
            return tools, answer, doc.contents[0].text  # type: ignore[union-attr]

    tools, answer, text = anyio.run(use)
    cite = answer["citations"][0]  # type: ignore[index]
    assert tools == {"ask", "search", "list_documents", "check", "timeline"}
    assert "Abilene" in str(answer["text"])
    assert text[cite["start"]:cite["end"]] == cite["quote"]
