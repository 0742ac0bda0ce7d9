"""Errors the services raise; each adapter turns them into its own format."""


class ServiceError(Exception):
    """A request the service refuses, with a message a person can act on."""


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class Invalid(ServiceError):
    pass
