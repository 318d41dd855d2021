"""JupyterLab from the project's environment: starts on a free localhost port, lists the four notebooks, runs one
through its kernel, and stops cleanly (``make lab`` runs the same server for readers)."""

import asyncio
import json
import pathlib
import socket
import uuid

import nbformat
from lab_server import lab_server
from tornado.websocket import websocket_connect

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ["fig1-overview.ipynb", "fig2-momentum.ipynb", "fig3-nongrad.ipynb", "fig4-adam.ipynb"]


async def _execute(server, kernel_id: str, sources: list[str]) -> list[dict]:
    """Run each source through the kernel's websocket; returns the error messages (empty when all went well)."""
    ws_url = server.url.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?token={server.token}"
    conn = await websocket_connect(ws_url)
    session, errors = uuid.uuid4().hex, []
    for code in sources:
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request",
                  "version": "5.3", "date": ""}  # fmt: skip
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False,
                   "stop_on_error": True}  # fmt: skip
        await conn.write_message(json.dumps({"header": header, "parent_header": {}, "metadata": {},
                                             "content": content, "channel": "shell", "buffers": []}))  # fmt: skip
        while True:
            raw = await asyncio.wait_for(conn.read_message(), timeout=300)
            if isinstance(raw, bytes):  # binary frames carry buffers (widget comm messages), never replies
                continue
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "error":
                errors.append(msg["content"])
            if msg["msg_type"] == "execute_reply":
                if msg["content"]["status"] != "ok":
                    errors.append(msg["content"])
                break
    conn.close()
    await asyncio.sleep(0)  # let the close go out
    return errors


def test_lab_starts_lists_notebooks_runs_one_and_stops(tmp_path):
    for name in NOTEBOOKS:  # a copy, so the run writes its results/ into tmp_path, not the checkout
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    (tmp_path / "functions").symlink_to(ROOT / "functions")
    with lab_server(tmp_path) as server:
        listed = sorted(item["name"] for item in server.api("/api/contents")["content"] if item["type"] == "notebook")
        assert listed == NOTEBOOKS
        assert "JupyterLab" in server.page("/lab"), "the JupyterLab page itself is served"
        session = (
            server.api(  # what opening the notebook in JupyterLab does: a session, its kernel in the notebook's folder
                "/api/sessions",
                "POST",
                {"path": "fig3-nongrad.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
            )
        )
        kernel = session["kernel"]
        nb = nbformat.read(tmp_path / "fig3-nongrad.ipynb", as_version=4)
        sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
        errors = asyncio.run(_execute(server, kernel["id"], sources))
        assert errors == []
        assert (tmp_path / "results" / "fig3.json").is_file() and (
            tmp_path / "fig_images" / "fig3-nongrad.png"
        ).is_file()
        server.api(f"/api/sessions/{session['id']}", method="DELETE")
        process, port = server.process, int(server.url.rsplit(":", 1)[1])
    assert process.returncode == 0, f"clean shutdown on SIGTERM, got exit code {process.returncode}"
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # closed connections may linger in TIME_WAIT
        s.bind(("127.0.0.1", port))  # nothing listens on the port any more
