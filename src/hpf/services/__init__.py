"""Services: one function per business action; they own the transaction (unit of work)."""
