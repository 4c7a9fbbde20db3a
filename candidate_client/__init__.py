"""The browser client (HTML, JS, CSS), served by exam_server as static files."""
