"""The exam server: Flask app factory, data model, workflows, Socket.IO handlers and the `examctl` CLI.

Importing this package stays cheap: `examctl sim` must start in well under a second without Flask.
"""


def create_app(test_config=None):
    """Build the Flask application (see :mod:`exam_server.app`)."""
    from .app import build_app

    return build_app(test_config)
