"""Talking to a running service over HTTP (the CLI's ``--url`` mode, scripts).

>>> hits = remote_search("http://127.0.0.1:8080", token, "AA5149EK", camera="gate")
"""

from __future__ import annotations

from typing import Any

import httpx

from platewatch.errors import PlatewatchError


class RemoteError(PlatewatchError):
    """The service could not be reached, or refused the request; says which and why."""


class ApiClient:
    """A thin client of the HTTP API; every method raises RemoteError on failure."""

    def __init__(self, url: str, token: str | None, timeout_s: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise RemoteError(f"service URL {url!r} must start with http:// or https://")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout_s)
        self.url = url

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """JSON of a 2xx answer (None for 204). RemoteError with the server's detail else."""
        try:
            answer = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach {self.url}: {exc}") from None
        if answer.status_code == 204:
            return None
        if answer.is_success:
            return answer.json()
        try:
            detail = answer.json().get("detail", answer.text)
        except ValueError:
            detail = answer.text
        hint = " (pass --token or set PLATEWATCH_TOKEN)" if answer.status_code == 401 else ""
        raise RemoteError(f"{method} {path}: {answer.status_code} {detail}{hint}")


def remote_search(url: str, token: str | None, text: str, **filters: Any) -> list[dict[str, Any]]:
    """Search a running service's sightings by plate text.

    filters: camera, since, until (ISO 8601 strings or datetimes), limit.
    Returns the sightings, best cosine first, as the API's JSON objects.
    """
    params = {"text": text} | {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in filters.items()
        if v is not None
    }
    with ApiClient(url, token) as client:
        found: list[dict[str, Any]] = client.request("GET", "/api/sightings/search", params=params)
    return found
