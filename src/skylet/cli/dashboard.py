"""``skylet dashboard``: the dashboard's address, as a login link that gives the browser a
session (the browser cannot sign the admin API's requests; docs/dashboard.md)."""

from __future__ import annotations

import click

from skylet.cli import auth
from skylet.cli.common import endpoint, endpoint_option, unreachable
from skylet.cli.exits import Exit, for_http
from skylet.cli.output import Output


@click.command()
@click.option("--no-browser", is_flag=True, help="Print the link only; do not open a browser.")
@endpoint_option()
@auth.credentials_option()
def dashboard(no_browser: bool, endpoint: str | None, credentials: str | None) -> None:
    """Print (and open) a login link to the running server's dashboard, valid 5 minutes."""
    import httpx

    server = _server(endpoint)
    url = f"{server}/_skylet/dashboard/session"
    headers = auth.signed(auth.keys(credentials), "skylet", "POST", url)
    try:
        response = httpx.post(url, headers=headers)
    except httpx.HTTPError as exc:
        raise unreachable(server, exc) from exc
    if response.status_code >= 400:
        code = response.headers.get("x-amzn-errortype", "")
        hint = auth.refusal_hint(response.status_code, code)
        raise Exit(
            f"{response.status_code} {code}: {response.text}{hint}", for_http(response.status_code)
        )
    link = server + response.json()["path"]
    Output().line(link)
    if not no_browser:
        import webbrowser

        webbrowser.open(link)


def _server(given: str | None) -> str:
    return endpoint(given)
