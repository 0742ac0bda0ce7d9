"""Storage interfaces, one module per capability: a ``typing.Protocol`` (``<Thing>Store``) and its
SQLAlchemy implementation (``Sql<Thing>Store``). Every method takes the caller's session first: the
unit of work stays the caller's, a store only issues statements."""
