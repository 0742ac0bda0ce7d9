"""Rate limits where clients authenticate: the token endpoint and the device authorization endpoint.

Nobody but a client can use up that client's limit. Per address, every request counts (before any
database work). A failed client authentication counts per claimed client id *and* address, and past
``AUTHGATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP`` that address is refused for that client id, so a
stranger who fails for a client id stops only themselves. The per-client limit counts requests that
authenticated as the client. At the token endpoint a public client, which has no secret (anyone can
present its id), counts per client id and address instead. At the device authorization endpoint
every client counts by id alone: there the limit bounds how many rows one client's requests store.
"""

from __future__ import annotations

from authgate.services.operations.ratelimit import RateLimiter, TooManyAttempts
from authgate.settings import Rate, Settings

TOKEN, DEVICE = "token", "device_authorization"
FAILURES = "client-auth-failures"
WHAT = {TOKEN: "token requests", DEVICE: "device authorization requests"}


class ClientLimits:
    def __init__(self, settings: Settings, limiter: RateLimiter):
        self.limiter = limiter
        self.failures = settings.client_auth_failures_per_ip
        self.per_ip: dict[str, Rate | None] = {
            TOKEN: settings.token_rate_per_ip, DEVICE: settings.device_codes_per_ip}
        self.per_client: dict[str, Rate | None] = {
            TOKEN: settings.token_rate_per_client, DEVICE: settings.device_codes_per_client}

    def watches(self, endpoint: str) -> bool:
        return endpoint in self.per_ip

    def request(self, endpoint: str, ip: str | None) -> None:
        """Count one request to ``endpoint`` from ``ip``; ``TooManyAttempts`` past its per-address limit."""
        if ip:
            self._hit(endpoint, "ip", ip, self.per_ip[endpoint])

    def before_authentication(self, claimed_id: str, ip: str | None) -> None:
        """Refuse an address that failed too often to authenticate as ``claimed_id``."""
        if not ip or self.failures is None:
            return
        failures, retry_after = self.limiter.peek(FAILURES, _pair(claimed_id, ip))
        if failures >= self.failures.count:
            raise TooManyAttempts(
                f"Too many failed client authentications from this address; try again in {retry_after} seconds.",
                retry_after)

    def failed(self, claimed_id: str, ip: str | None) -> None:
        if ip:
            self.limiter.hit(FAILURES, _pair(claimed_id, ip), self.failures)

    def authenticated(self, endpoint: str, client_id: str, public: bool, ip: str | None) -> None:
        """Count one request of an authenticated client; ``TooManyAttempts`` past its per-client limit."""
        subject = _pair(client_id, ip or "") if public and endpoint == TOKEN else client_id
        self._hit(endpoint, "client", subject, self.per_client[endpoint])

    def _hit(self, endpoint: str, by: str, subject: str, rate: Rate | None) -> None:
        decision = self.limiter.hit(f"{endpoint}-{by}", subject, rate)
        if not decision.allowed:
            raise TooManyAttempts(f"Too many {WHAT[endpoint]}; try again in {decision.retry_after} seconds.",
                                  decision.retry_after)


def _pair(client_id: str, ip: str) -> str:
    return f"{(client_id or '-')[:128]}|{ip}"
