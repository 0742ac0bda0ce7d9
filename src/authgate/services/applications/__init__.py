"""Applications: the OAuth clients, what each may ask for (grant types), and the limits on their requests."""
