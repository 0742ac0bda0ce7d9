"""LDAP directories as identity providers: the settings of one, the search and bind against it, and the sign-in
through the password form that follows a failed local password."""
