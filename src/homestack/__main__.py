"""`python -m homestack`: the same as the `homestack` command."""

from homestack.cli import main

main()
