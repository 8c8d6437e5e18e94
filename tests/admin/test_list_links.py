"""The list page's links (sort headers, page sizes, filter choices, chips) come from
`changed_url`, which parses the query once a request: each gives exactly the URL Starlette's
`remove_query_params` / `include_query_params` give."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from admin_app.admin.sidebar import changed_url

QUERIES = [
    "", "page=3", "search=caf%C3%A9+bar&status=pending,done&page=2", "status=&x=1&x=2&sort=asc&sortBy=id",
    "search=a%2Bb%26c%3Dd&pageSize=50", "q=%20%20&_facets=1", "priority=4,5&priority=3&page=1&sortBy=title",
]
CHANGES = [
    (("page",), {}), (("page", "status"), {}), (("x",), {}), ((), {"sort": "desc"}),
    ((), {"sortBy": "title", "sort": "asc"}), ((), {"pageSize": 100, "page": 1}), (("page",), {"status": "done"}),
    (("_facets",), {}), ((), {"_facets": "1"}), (("nope",), {"x": "ü &="}),
]


def request_for(query: str) -> Request:
    return Request({"type": "http", "scheme": "http", "server": ("127.0.0.1", 8000), "root_path": "",
                    "path": "/admin/task/list", "query_string": query.encode(), "headers": [], "state": {}})


@pytest.mark.parametrize("query", QUERIES)
def test_every_link_is_starlette_s_own(query: str) -> None:
    request = request_for(query)
    for drop, add in CHANGES:
        expected = request.url
        for name in drop:
            expected = expected.remove_query_params(name)
        if add:
            expected = expected.include_query_params(**add)
        assert str(changed_url(request, drop, **add)) == str(expected), (query, drop, add)


def test_the_query_is_read_once_a_request() -> None:
    request = request_for("status=pending&page=2")
    assert str(changed_url(request, ("page",))) == "http://127.0.0.1:8000/admin/task/list?status=pending"
    request.scope["query_string"] = b"status=done"  # not read again: the page's links agree
    assert str(changed_url(request, (), sort="asc")).endswith("?status=pending&page=2&sort=asc")
