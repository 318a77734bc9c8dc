"""A STAND-IN for GitLab's REST API (v4), for tests only: not GitLab. It serves on loopback the
calls the shipped GitLab scripts make (the token's user, merge request notes with pagination,
issues by label, their notes, a job's artifact by branch and job name), answering in GitLab's
JSON shapes and checking the tokens (PRIVATE-TOKEN for the note token, JOB-TOKEN for the
artifact); every call is recorded. The scripts talk to it with the real curl."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

TOKEN = "glpat-stand-in"
JOB_TOKEN = "glcbt-stand-in"
BOT = {"id": 77, "username": "project_5_bot_backstaff", "name": "backstaff"}
NOW = "2026-12-04T02:00:00.000Z"


@dataclass
class GitLab:
    project: int = 5
    notes: list[dict[str, Any]] = field(default_factory=list)  # {id, noteable_iid, body, author}
    issues: list[dict[str, Any]] = field(default_factory=list)  # {iid, title, description, ...}
    artifacts: dict[tuple[str, str, str], Path] = field(default_factory=dict)  # (ref, job, path)
    calls: list[tuple[str, str]] = field(default_factory=list)
    next_id: int = 500

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "GET"]

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: Any, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urlsplit(self.path)
                path = unquote(url.path)
                query = dict(parse_qsl(url.query))
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                api.calls.append((method, path))
                status, body, raw = api.route(method, path, query, form, dict(self.headers))
                self._answer(status, body, raw)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}/api/v4"

    def route(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str],
        headers: dict[str, str],
    ) -> tuple[int, Any, bytes | None]:  # fmt: skip
        base = f"/api/v4/projects/{self.project}"
        m = re.fullmatch(base + r"/jobs/artifacts/([^/]+)/raw/(.+)", path)
        if m and method == "GET":
            if headers.get("JOB-TOKEN") != JOB_TOKEN:
                return 401, {"message": "401 Unauthorized"}, None
            file = self.artifacts.get((m.group(1), query.get("job", ""), m.group(2)))
            if file is None:
                return 404, {"message": "404 Not found"}, None
            return 200, None, file.read_bytes()
        if headers.get("PRIVATE-TOKEN") != TOKEN:
            return 401, {"message": "401 Unauthorized"}, None
        if path == "/api/v4/user":
            return 200, BOT, None
        if m := re.fullmatch(base + r"/merge_requests/(\d+)/notes(?:/(\d+))?", path):
            iid, note_id = int(m.group(1)), m.group(2)
            if method == "GET" and note_id is None:
                found = [n for n in self.notes if n["noteable_iid"] == iid]
                per_page, page = int(query.get("per_page", 20)), int(query.get("page", 1))
                return (
                    200,
                    [self._note(n) for n in found[(page - 1) * per_page : page * per_page]],
                    None,
                )
            if method == "POST" and note_id is None:
                self.next_id += 1
                note = {
                    "id": self.next_id,
                    "noteable_iid": iid,
                    "body": form["body"],
                    "author": BOT,
                }
                self.notes.append(note)
                return 201, self._note(note), None
            if method == "PUT" and note_id is not None:
                for note in self.notes:
                    if note["id"] == int(note_id):
                        if note["author"]["id"] != BOT["id"]:
                            return 403, {"message": "403 Forbidden"}, None
                        note["body"] = form["body"]
                        return 200, self._note(note), None
            return 404, {"message": "404 Not found"}, None
        if path == base + "/issues":
            if method == "GET":
                state, label = query.get("state"), query.get("labels")
                found = [self._issue(i) for i in self.issues
                         if (state is None or i["state"] == state)
                         and (label is None or label in i["labels"])]  # fmt: skip
                return 200, found, None
            if method == "POST":
                iid = max((i["iid"] for i in self.issues), default=0) + 1
                issue = {"iid": iid, "title": form["title"], "description": form.get("description"),
                         "labels": form.get("labels", "").split(","), "state": "opened",
                         "notes": []}  # fmt: skip
                self.issues.append(issue)
                return 201, self._issue(issue), None
        if m := re.fullmatch(base + r"/issues/(\d+)(/notes)?", path):
            for issue in self.issues:
                if issue["iid"] == int(m.group(1)):
                    if m.group(2) and method == "POST":
                        issue["notes"].append(form["body"])
                        return 201, {"id": 1, "body": form["body"], "author": BOT}, None
                    if not m.group(2) and method == "PUT":
                        if "description" in form:
                            issue["description"] = form["description"]
                        if form.get("state_event") == "close":
                            issue["state"] = "closed"
                        return 200, self._issue(issue), None
        return 404, {"message": "404 Not found"}, None

    def _note(self, note: dict[str, Any]) -> dict[str, Any]:
        return {"id": note["id"], "type": None, "body": note["body"], "author": note["author"],
                "created_at": NOW, "updated_at": NOW, "system": False,
                "noteable_id": 9000 + note["noteable_iid"], "noteable_type": "MergeRequest",
                "noteable_iid": note["noteable_iid"], "project_id": self.project}  # fmt: skip

    def _issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        return {"id": 7000 + issue["iid"], "iid": issue["iid"], "project_id": self.project,
                "title": issue["title"], "description": issue["description"],
                "state": issue["state"], "labels": issue["labels"], "author": BOT,
                "created_at": NOW, "updated_at": NOW}  # fmt: skip
