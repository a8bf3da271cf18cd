"""What else goes down with `homestack down STACK|SERVICE…`: the running services, in any
stack, that need (directly or through others) what is taken down. The walk lives in
homestack.plan beside the graph it walks (lint and stackfile use it without reaching into
deploy); this module names it for the deploy operations."""

from __future__ import annotations

from ..plan import Dependent, find_dependents, is_running, order_within

__all__ = ["Dependent", "find_dependents", "is_running", "order_within"]
