"""Errors the services raise; each adapter turns them into its own format."""


class ServiceError(Exception):
    """A request the service refuses, with a message a person can act on.

    ``field`` names the input at fault, when there is one (the API reports it under that name).
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class Invalid(ServiceError):
    pass


class Forbidden(ServiceError):
    """The actor may not do this: a missing permission, or a rule about whom it may be done to."""
