"""A small HTTP client that behaves like a browser towards Standpoint: cookies, the CSRF token
taken from the last page's form, sign-in through /accounts/login/, and the flash messages a
POST leaves for the next page. Standard library only (http.client), one connection per request.

Messages: after a form POST Django redirects and keeps its message ("Your comment was added.")
in the signed `messages` cookie until a page shows it. `Browser.post` reads that cookie from
the redirect (this process runs Django with the same SECRET_KEY) and then drops it, as the
page it would be redirected to would show and consume it. That message is what the person
sees, so it is what counts as "acknowledged".
"""

import http.client
import re
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Response:
    def __init__(self, status, headers, body, started, finished, messages=()):
        self.status = status
        self.headers = headers
        self.body = body
        self.started = started
        self.finished = finished
        self.messages = list(messages)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name) if self.headers is not None else None

    def said(self, fragment, level="success"):
        """The text of the first message of that level containing fragment, or None."""
        return next((t for lvl, t in self.messages if lvl == level and fragment in t), None)

    def __repr__(self):
        return f"<Response {self.status} {self.messages}>"


def decode_messages(value):
    """The (level, text) pairs in a `messages` cookie, if its signature is good."""
    from django.contrib.messages.storage.cookie import CookieStorage, MessageSerializer
    from django.core import signing

    signer = signing.get_cookie_signer(salt=CookieStorage.key_salt)
    try:
        messages = signer.unsign_object(value, serializer=MessageSerializer)
    except (signing.BadSignature, ValueError):
        return []
    return [(message.level_tag, str(message.message)) for message in messages or []]


class Browser:
    def __init__(self, base_url, *, timeout=30):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.timeout = timeout
        self.cookies = {}
        self.form_token = None

    def request(self, method, path, *, fields=None, headers=None):
        """One request on a new connection. Connection errors are raised (OSError,
        http.client.HTTPException); any HTTP status is returned."""
        head = {
            "Host": f"{self.host}:{self.port}",
            "User-Agent": "standpoint-bench",
            "Connection": "close",
            **(headers or {}),
        }
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            head["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=head)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        messages = self._take_cookies(response.headers.get_all("Set-Cookie") or [])
        html = "html" in (response.headers.get("Content-Type") or "")
        if html and (token := TOKEN.search(data.decode("utf-8", "replace"))):
            self.form_token = token.group(1)
        return Response(
            response.status, response.headers, data, started, time.monotonic(), messages
        )

    def _take_cookies(self, lines):
        messages = []
        for line in lines:
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                elif name == "messages":
                    messages = decode_messages(morsel.value)
                else:
                    self.cookies[name] = morsel.coded_value
        return messages

    def get(self, path, **headers):
        return self.request("GET", path, headers=headers)

    def post(self, path, fields=None, *, follow=False):
        """A form POST with the CSRF token of the last page (or of the cookie)."""
        token = self.form_token or self.cookies.get("csrftoken", "")
        fields = {**(fields or {}), "csrfmiddlewaretoken": token}
        response = self.request("POST", path, fields=fields)
        if follow and response.status in (301, 302, 303) and response.header("Location"):
            location = urlsplit(response.header("Location"))
            landed = self.get(location.path + (f"?{location.query}" if location.query else ""))
            landed.messages = response.messages
            return landed
        return response

    def login(self, username, password, *, then="/"):
        """Sign in as a person does: the form's CSRF token, the POST, the page it leads to
        (whose form token later POSTs use; Django rotates the token at sign-in)."""
        self.get("/accounts/login/")
        response = self.post(
            "/accounts/login/", {"username": username, "password": password, "next": then}
        )
        if response.status != 302:
            raise SystemExit(f"Sign-in as {username} answered {response.status}, not 302.")
        page = self.get(then)
        if page.status != 200:
            raise SystemExit(f"{then} answered {page.status} after signing in as {username}.")
        return page
