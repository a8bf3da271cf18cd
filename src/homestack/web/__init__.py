"""`homestack serve`: the dashboard (FastAPI + Jinja2 + htmx + SSE) over the library.

Nothing here is imported by the other commands: the web stack loads only inside `serve`.
"""
