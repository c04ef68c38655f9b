"""Source links kept alive: the check of one cited address (papers/link_status.py records what
it finds on each source and tells readers).

The check is polite: it names itself and the site in its User-Agent, reads each host's
robots.txt (RFC 9309, through urllib.robotparser) and keeps to what it allows, and waits
STANDPOINT_LINKCHECK_HOST_SECONDS (or the host's Crawl-delay) between two requests to a host.

It is never a way into the private network: every name is resolved first, and an address on
loopback, private, link-local, multicast, reserved or otherwise non-public ranges is refused,
at the first address and at each redirect. The connection then goes to the very address that
was checked (no second look-up that a rebinding name server could answer otherwise); TLS is
still verified against the host's name. STANDPOINT_LINKCHECK_ALLOW_PRIVATE lifts the refusal,
for tests and intranet sites.

The standard library does it all: http.client lets the connection be made to the checked
address, which the higher-level clients hide, and redirects are followed here, hop by hop.
"""

import hashlib
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib import robotparser
from urllib.parse import urljoin, urlsplit

from django.conf import settings

ROBOTS_TOKEN = "Standpoint"  # the product token robots.txt groups name (RFC 9309)
MAX_REDIRECTS = 10
ROBOTS_REDIRECTS = 5  # RFC 9309 asks crawlers to follow at least five
MAX_BODY = 5 * 1024 * 1024  # the hash covers at most this much of a page
ROBOTS_MAX = 500 * 1024  # RFC 9309's parsing limit
MAX_CRAWL_DELAY = 60.0  # a host that asks for more is still checked, once a minute
REDIRECTS = {301, 302, 303, 307, 308}


class Refused(Exception):
    """The address is not fetched: it is not public, or robots.txt asks us not to."""


class Broken(Exception):
    """No answer could be had: the name does not resolve, the connection fails or times out,
    the answer is malformed, or redirects do not end."""


@dataclass(frozen=True)
class Outcome:
    """What one check of an address found. `code` and `body_hash` are None when no final
    answer came; `final_url` is where redirects led."""

    kind: str  # "answered", "broken" or "refused"
    note: str = ""
    code: int | None = None
    body_hash: str | None = None
    final_url: str = ""
    redirected: bool = False


def user_agent():
    return f"Standpoint-linkcheck/1.0 (+{settings.SITE_URL})"


def is_public(ip):
    """Whether an address may be fetched: on the public internet, and not multicast or
    reserved (an IPv4 address written as IPv6 is judged as IPv4)."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])  # an IPv6 zone names a local link
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


def addresses(host, port, *, allow_private=False):
    """The addresses `host` resolves to, every one of them checked; Refused if any is not
    public (a name with one private address among public ones is refused as a whole), unless
    allow_private is True or a list of networks that holds it."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise Broken(f"{host} does not resolve") from error
    found = list(dict.fromkeys(info[4][0] for info in infos))
    if allow_private is not True:
        for ip in found:
            if not is_public(ip) and not _allowed(ip, allow_private or ()):
                raise Refused(f"{host} resolves to {ip}, which is not a public address")
    return found


def _allowed(ip, networks):
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    return any(address.version == net.version and address in net for net in networks)


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to `ip`, speaking to `host` (its Host header)."""

    def __init__(self, host, port, *, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self.ip = ip

    def connect(self):
        self.sock = socket.create_connection((self.ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """A TLS connection to `ip`, with the certificate checked against `host`."""

    def __init__(self, host, port, *, ip, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.ip = ip

    def connect(self):
        sock = socket.create_connection((self.ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class HostPacer:
    """At most one request to a host per interval (or the Crawl-delay it asks for)."""

    def __init__(self, interval):
        self.interval = interval
        self.last = {}

    def wait(self, host, delay=None):
        gap = max(self.interval, min(delay or 0, MAX_CRAWL_DELAY))
        if host in self.last:
            pause = self.last[host] + gap - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        self.last[host] = time.monotonic()


class Checker:
    """Checks addresses one after another, keeping each host's robots.txt and pace."""

    def __init__(self, *, timeout=None, interval=None, allow_private=None):
        """allow_private: True fetches any address, or a list of networks (ipaddress) that
        may be fetched besides public addresses; by default STANDPOINT_LINKCHECK_ALLOW_PRIVATE."""
        self.timeout = timeout or settings.STANDPOINT_LINKCHECK_TIMEOUT
        self.pacer = HostPacer(
            settings.STANDPOINT_LINKCHECK_HOST_SECONDS if interval is None else interval
        )
        self.allow_private = (
            settings.STANDPOINT_LINKCHECK_ALLOW_PRIVATE if allow_private is None else allow_private
        )
        self.robots = {}

    def check(self, url):
        """The Outcome of fetching `url`, redirects followed; never raises for the address."""
        try:
            return self._follow(url)
        except Refused as refusal:
            return Outcome("refused", note=str(refusal))
        except Broken as failure:
            return Outcome("broken", note=str(failure))

    def _follow(self, url):
        current, hops = url, 0
        while True:
            parts = _web_address(current)
            rules = self._robots(parts)
            if not rules.can_fetch(ROBOTS_TOKEN, current):
                raise Refused(f"robots.txt of {parts.hostname} asks crawlers not to fetch it")
            code, location, body = self._get(current, crawl_delay=rules.crawl_delay(ROBOTS_TOKEN))
            if code in REDIRECTS and location:
                hops += 1
                if hops > MAX_REDIRECTS:
                    raise Broken(f"more than {MAX_REDIRECTS} redirects")
                current = urljoin(current, location.strip())
                continue
            answered = 200 <= code < 300
            return Outcome(
                "answered",
                note="" if answered else f"HTTP {code}",
                code=code,
                body_hash=hashlib.sha256(body).hexdigest() if answered else None,
                final_url=current,
                redirected=hops > 0,
            )

    def _robots(self, parts):
        """The robots.txt rules of the origin of `parts`, fetched once per check run."""
        origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        if origin not in self.robots:
            try:
                self.robots[origin] = self._fetch_robots(origin + "/robots.txt")
            except (Refused, Broken) as error:
                self.robots[origin] = error
        rules = self.robots[origin]
        if isinstance(rules, Exception):
            raise type(rules)(str(rules))
        return rules

    def _fetch_robots(self, url):
        rules = robotparser.RobotFileParser(url)
        for _ in range(ROBOTS_REDIRECTS + 1):
            _web_address(url)
            code, location, body = self._get(url, limit=ROBOTS_MAX)
            if code in REDIRECTS and location:
                url = urljoin(url, location.strip())
                continue
            break
        else:
            code = 404  # RFC 9309: redirects that do not end mean no robots.txt
        if 200 <= code < 300:
            rules.parse(body.decode("utf-8", "replace").splitlines())
        elif 400 <= code < 500:
            rules.allow_all = True  # no rules: everything may be fetched
        else:
            rules.disallow_all = True  # RFC 9309: robots.txt unreachable, nothing is fetched
        rules.modified()
        return rules

    def _get(self, url, *, limit=MAX_BODY, crawl_delay=None):
        """One GET of `url`, without following redirects: (status, Location, body)."""
        parts = urlsplit(url)
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError as error:
            raise Broken(f"{parts.hostname} is not a valid host name") from error
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise Broken("the address has an invalid port") from error
        ips = addresses(host, port, allow_private=self.allow_private)
        self.pacer.wait(host, crawl_delay)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        connection_class = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
        deadline = time.monotonic() + 3 * self.timeout  # a page trickled out slowly ends too
        failure = None
        for ip in ips:
            connection = connection_class(host, parts.port, ip=ip, timeout=self.timeout)
            try:
                connection.request("GET", path, headers=self._headers())
                response = connection.getresponse()
                body = _read(response, limit, deadline)
                return response.status, response.getheader("Location"), body
            except TimeoutError as error:
                failure = Broken(f"no answer within {self.timeout:g} s")
                failure.__cause__ = error
            except ssl.SSLError as error:
                failure = Broken(f"TLS failed: {error.reason or error}")
            except (OSError, http.client.HTTPException) as error:
                failure = Broken(f"the connection failed ({type(error).__name__})")
            finally:
                connection.close()
        raise failure

    def _headers(self):
        return {"User-Agent": user_agent(), "Accept": "*/*", "Accept-Encoding": "identity"}


def _web_address(url):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Broken(f"{url[:100]} is not a web address")
    return parts


def _read(response, limit, deadline):
    chunks, size = [], 0
    while size < limit:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
