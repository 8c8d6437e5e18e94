"""An admin page asks a worker thread for the request's principal once: the language
middleware, SQLAdmin's authentication and its grants each want it, and each extra thread hop
costs every page (bench/run.py's list lines)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from auth.authenticator import Authenticator
from tests.helpers import recorded_thread_hops


@pytest.mark.parametrize("path", ["/admin/task/list", "/admin/project/list", "/admin/"])
def test_a_page_resolves_its_principal_in_one_worker_thread(editor, monkeypatch, path) -> None:  # noqa: ANN001
    asked = recorded_thread_hops(monkeypatch)
    response = editor.get(path)
    assert response.status_code == 200
    assert asked.count(Authenticator.principal.__qualname__) == 1, asked


def test_a_signed_out_page_still_asks_and_is_sent_to_the_login(app, monkeypatch) -> None:  # noqa: ANN001
    asked = recorded_thread_hops(monkeypatch)
    with TestClient(app, base_url="https://testserver") as anonymous:
        response = anonymous.get("/admin/task/list", follow_redirects=False)
    assert response.status_code in (302, 303) and "/admin/login" in response.headers["location"]
    assert asked.count(Authenticator.principal.__qualname__) == 1, asked
